"""Which role each route needs, and which environment a request is about.

`ROUTES` is the written-down model: docs/api.md carries it as a table (a test checks the
two are equal), and a test walks every route of the OpenAPI document with every role on
every scope and compares the server's answers with it.

Scopes:
- `open`: no token.
- `global`: the request is about no single environment (the catalog's writes, the audit
  trail): only a global binding grants it.
- `any`: reading what belongs to a service and to no environment (the catalog, releases,
  commits, assessments): the role bound globally or on any environment.
- `environment`: the request names one environment (path, body, filter, or the resource it
  acts on): the role bound globally or on that environment.
- `rows`: a list; with an environment filter as `environment`, else only the rows of the
  environments where the caller holds the role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.auth.roles import Role, allows
from code_engine.auth.tokens import Principal
from code_engine.dora.events import CommitEvent, DeploymentEvent, Event, IncidentEvent
from code_engine.dora.runs import existing_deployment_environment
from code_engine.store.tables import EnvironmentRow, IncidentRow

OPEN = "open"
GLOBAL = "global"
ANY = "any"
ENVIRONMENT = "environment"
ROWS = "rows"


@dataclass(frozen=True)
class Rule:
    role: Role | None
    scope: str
    source: str = ""


_SERVICE_WORK = "the request's environment"
ROUTES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): Rule(None, OPEN),
    ("GET", "/readyz"): Rule(None, OPEN),
    ("GET", "/metrics"): Rule(None, OPEN),
    ("POST", "/oauth/token"): Rule(None, OPEN, "client or user credentials"),
    ("GET", "/.well-known/jwks.json"): Rule(None, OPEN),
    ("POST", "/api/v1/webhooks/github"): Rule(None, OPEN, "HMAC signature of the body"),
    ("GET", "/api/v1/services"): Rule(Role.viewer, ANY),
    ("POST", "/api/v1/services"): Rule(Role.admin, GLOBAL),
    ("GET", "/api/v1/services/{name}"): Rule(Role.viewer, ANY),
    ("PATCH", "/api/v1/services/{name}"): Rule(
        Role.admin, GLOBAL, "changes what runs: admins only"
    ),
    ("GET", "/api/v1/environments"): Rule(Role.viewer, ANY),
    ("GET", "/api/v1/services/{name}/assessments"): Rule(Role.viewer, ANY),
    ("POST", "/api/v1/services/{name}/assessments"): Rule(Role.developer, GLOBAL),
    ("GET", "/api/v1/changes"): Rule(Role.viewer, ANY),
    ("POST", "/api/v1/changes"): Rule(Role.developer, GLOBAL),
    ("GET", "/api/v1/releases"): Rule(Role.viewer, ANY),
    ("POST", "/api/v1/releases"): Rule(Role.developer, GLOBAL),
    ("GET", "/api/v1/pipeline/runs"): Rule(Role.viewer, ANY),
    ("POST", "/api/v1/pipeline/runs"): Rule(Role.developer, GLOBAL),
    ("GET", "/api/v1/deployments"): Rule(Role.viewer, ROWS, "query `environment`"),
    ("POST", "/api/v1/deployments"): Rule(
        Role.deployer, ENVIRONMENT, "body `environment` (and the deployment of `external_id`)"
    ),
    ("GET", "/api/v1/deployments/status"): Rule(Role.viewer, ROWS, "query `environment`"),
    ("POST", "/api/v1/deployments/promote"): Rule(Role.deployer, ENVIRONMENT, "body `to`"),
    ("POST", "/api/v1/deployments/rollback"): Rule(
        Role.deployer, ENVIRONMENT, "body `environment`"
    ),
    ("POST", "/api/v1/deployments/restart"): Rule(Role.deployer, ENVIRONMENT, "body `environment`"),
    ("GET", "/api/v1/deployments/{deployment_id}"): Rule(
        Role.viewer, ENVIRONMENT, "the deployment's"
    ),
    **{
        ("POST", f"/api/v1/deployments/{{deployment_id}}/{verb}"): Rule(
            Role.deployer, ENVIRONMENT, "the deployment's"
        )
        for verb in ("pause", "resume", "abort", "promote", "approve", "reject")
    },
    ("GET", "/api/v1/incidents"): Rule(Role.viewer, ROWS, "each incident's"),
    ("POST", "/api/v1/incidents"): Rule(
        Role.developer,
        ENVIRONMENT,
        "body `environment` (none: global), the linked deployment's, "
        "and the incident of `external_id`",
    ),
    ("GET", "/api/v1/incidents/{incident_id}"): Rule(
        Role.viewer, ENVIRONMENT, "the incident's (none: global)"
    ),
    ("POST", "/api/v1/incidents/{incident_id}/resolve"): Rule(
        Role.developer, ENVIRONMENT, "the incident's (none: global)"
    ),
    ("POST", "/api/v1/events"): Rule(
        Role.developer,
        ENVIRONMENT,
        "each event's: deployments need deployer there, incidents developer, "
        "commits a global developer",
    ),
    ("GET", "/api/v1/audit"): Rule(Role.admin, GLOBAL),
    ("POST", "/api/v1/policy/evaluate"): Rule(
        Role.developer, ENVIRONMENT, "body `environment` (none: global)"
    ),
    # CODE's own backups and drills belong to no environment
    ("GET", "/api/v1/backups"): Rule(Role.viewer, ANY),
    ("POST", "/api/v1/backups"): Rule(Role.admin, GLOBAL),
    ("GET", "/api/v1/dr/drills"): Rule(Role.viewer, ANY),
    ("POST", "/api/v1/dr/drills"): Rule(Role.admin, GLOBAL),
    ("GET", "/api/v1/dr/status"): Rule(Role.viewer, ANY),
    ("POST", "/api/v1/dr/restore"): Rule(Role.admin, GLOBAL),
    ("GET", "/api/v1/metrics/dora"): Rule(
        Role.viewer, ENVIRONMENT, "query `environment` (default prod)"
    ),
    ("GET", "/api/v1/metrics/operations"): Rule(
        Role.viewer, ENVIRONMENT, "query `environment` (default prod)"
    ),
    ("POST", "/api/v1/webhooks/alertmanager"): Rule(
        Role.developer, ENVIRONMENT, "each alert's environment label (none: global)"
    ),
    ("POST", "/api/v1/webhooks/argocd"): Rule(
        Role.deployer, ENVIRONMENT, "the application's environment"
    ),
}


def render_table() -> str:
    """ROUTES as the Markdown table of docs/api.md."""
    lines = [
        "| method | path | role | scope | environment from |",
        "|---|---|---|---|---|",
    ]
    for (method, path), rule in ROUTES.items():
        role = rule.role.name if rule.role else "-"
        lines.append(f"| {method} | `{path}` | {role} | {rule.scope} | {rule.source or '-'} |")
    return "\n".join(lines) + "\n"


def environment_name(session: Session, environment_id: int | None) -> str | None:
    if environment_id is None:
        return None
    return session.scalars(
        select(EnvironmentRow.name).where(EnvironmentRow.id == environment_id)
    ).first()


def existing_incident(session: Session, external_id: str | None) -> IncidentRow | None:
    if not external_id:
        return None
    return session.scalars(
        select(IncidentRow).where(IncidentRow.external_id == external_id)
    ).first()


Authorize = Callable[[Principal, Role, "str | None"], None]


def event_authorizer(
    session: Session, principal: Principal, authorize: Authorize
) -> Callable[[Event], None]:
    """Authorize each event on its environment, and on the one of the record it replaces."""

    def check(event: Event) -> None:
        if isinstance(event, CommitEvent):
            authorize(principal, Role.developer, None)
        elif isinstance(event, DeploymentEvent):
            authorize(principal, Role.deployer, event.environment)
            replaced = existing_deployment_environment(session, event.external_id)
            if replaced is not None:
                authorize(principal, Role.deployer, replaced)
        elif isinstance(event, IncidentEvent):
            authorize(principal, Role.developer, event.environment or None)
            row = existing_incident(session, event.external_id)
            if row is not None:
                authorize(principal, Role.developer, environment_name(session, row.environment_id))

    return check


def may(principal: Principal, role: Role, environment: str | None) -> bool:
    return allows(principal.bindings, role, environment)
