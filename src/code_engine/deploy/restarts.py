"""`codectl restart ENV`: restart the instances of the release serving an environment.

The request is queued on the environment's current deployment (as the commands of a
rollout are); the environment's controller takes it and restarts the instances one by one,
so that they start with the secret values of now (a rotated secret is picked up).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.audit import trail as audit
from code_engine.catalog.store import require_environment, require_service
from code_engine.deploy import environments as envs
from code_engine.deploy.service import Actor, resource
from code_engine.errors import ConflictError
from code_engine.store.tables import DeploymentCommandRow, DeploymentRow

RESTART = "restart"


def request_restart(
    session: Session, actor: Actor, service: str, environment: str, now: datetime
) -> DeploymentRow:
    """Queue a restart of what serves `environment`; returns the deployment that serves it."""
    row = require_service(session, service)
    env = require_environment(session, row.id, environment)
    active = envs.open_deployment(session, row.id, env.id)
    if active is not None:
        raise ConflictError(
            f"deployment {active.id} of {active.version} is {active.status} in {environment}; "
            "the instances it starts get the secret values of now: restart after it ends"
        )
    current = envs.current_deployment(session, row.id, env.id)
    if current is None or not envs.is_run(current):
        raise ConflictError(f"nothing CODE runs serves {environment}: codectl deploy first")
    session.add(
        DeploymentCommandRow(
            deployment_id=current.id, command=RESTART, principal=actor.name, created_at=now
        )
    )
    audit.record(
        session,
        at=now,
        principal=actor.name,
        action="deployment.restart",
        resource=resource(service, environment, current.id),
        detail={"version": current.version},
    )
    session.flush()
    return current


def pending_restarts(session: Session, deployment_id: int) -> list[DeploymentCommandRow]:
    """Restart requests of a deployment the controller has not taken yet."""
    query = select(DeploymentCommandRow).where(
        DeploymentCommandRow.deployment_id == deployment_id,
        DeploymentCommandRow.command == RESTART,
        DeploymentCommandRow.consumed_at.is_(None),
    )
    return list(session.scalars(query))
