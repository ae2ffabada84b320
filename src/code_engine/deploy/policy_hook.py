"""The policy questions of delivery: the facts of a deployment, promotion, rollback, abort,
approval or release, asked of the operator's policies and of the release's own `policies:`.

Each service function calls one `check_*` before it writes anything; a refusal raises
PolicyDeniedError and the decision stays recorded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.deploy.policy_facts import gather
from code_engine.pipeline import store as pipeline_store
from code_engine.policy.inputs import Facts, principal_of
from code_engine.policy.model import Decision, PolicySet
from code_engine.policy.sources import from_tree
from code_engine.spec import PolicyBundle, ServiceSpec
from code_engine.store.tables import (
    DeploymentRow,
    EnvironmentRow,
    ReleaseRow,
    ServiceRow,
)

if TYPE_CHECKING:
    from code_engine.deploy.gitrepo import Repository
    from code_engine.deploy.service import Actor, DeployContext

ACTION_OF_TRIGGER = {"promote": "promote", "rollback": "rollback"}


# A commit's files never change: policy sets read at one are kept (bounded), so a release's
# policies cost git reads once, not at every decision.
_SETS: OrderedDict[tuple[str, str, tuple[PolicyBundle, ...]], list[PolicySet]] = OrderedDict()
_SETS_LOCK = threading.Lock()
SETS_CACHED = 128


def service_sets(repo: Repository, sha: str, spec: ServiceSpec) -> list[PolicySet]:
    """The release's own policies, read at its commit: policy travels with the release."""
    if not spec.policies:
        return []
    key = (str(repo.path), sha, tuple(spec.policies))
    with _SETS_LOCK:
        if key in _SETS:
            _SETS.move_to_end(key)
            return _SETS[key]
    label = f"@{sha[:12]}"

    def files(path: str) -> list[str]:
        return repo.files(sha, path)

    def read(path: str) -> str | None:
        return repo.read(sha, path)

    sets = [from_tree(bundle, files, read, label) for bundle in spec.policies]
    with _SETS_LOCK:
        _SETS[key] = sets
        while len(_SETS) > SETS_CACHED:
            _SETS.popitem(last=False)
    return sets


def environment_doc(spec: ServiceSpec, name: str) -> dict[str, Any]:
    environment = spec.environment(name)
    previous = spec.previous_environment(name)
    return {
        "name": name,
        "index": spec.environment_names.index(name),
        "previous": None if previous is None else previous.name,
        "target": environment.target.kind,
        "timezone": environment.timezone,
        "protection": {
            **environment.protection.model_dump(),
            "requires_pipeline": environment.requires_pipeline,
        },
    }


def release_doc(
    session: Session,
    ctx: DeployContext,
    service: ServiceRow,
    release: ReleaseRow,
    clean_run: bool = True,
) -> dict[str, Any]:
    return {
        "version": release.version,
        "commit": release.sha,
        "created_by": release.created_by,
        "created_at": release.created_at.isoformat(),
        "qualification": qualification_doc(session, ctx, service, release, clean_run),
    }


def qualification_doc(
    session: Session,
    ctx: DeployContext,
    service: ServiceRow,
    release: ReleaseRow,
    clean_run: bool = True,
) -> dict[str, Any] | None:
    """The pipeline's verdict on the release's commit: `qualified` when its newest clean run
    passed, `unqualified` when it failed, `unknown` (None) when no run was recorded; a gate's
    own `qualify` (tests, other pipelines) answers first. `clean_run` False (the facts' query
    found no clean run) spares the pipeline's query: its answer would be `unknown`."""
    given = ctx.policy.qualify(service.name, release.version, release.sha)
    if given is not None:
        return given
    if not clean_run:
        return None
    verdict = pipeline_store.qualification(session, service.id, release.sha)
    if verdict.run_id is None:
        return None
    return {
        "status": "qualified" if verdict.qualified else "unqualified",
        "run": verdict.run_id,
        "reason": verdict.reason,
        "failed_gates": list(verdict.failed_gates),
    }


def approvals_of(deployment: DeploymentRow) -> list[dict[str, Any]]:
    review = (deployment.state or {}).get("review") or {}
    if not review.get("decision"):
        return []
    entry = {"by": review.get("by", ""), "decision": review["decision"], "at": review.get("at", "")}
    if review.get("comment"):
        entry["comment"] = review["comment"]
    return [entry]


def deployment_doc(deployment: DeploymentRow) -> dict[str, Any]:
    return {
        "id": deployment.id,
        "environment": str((deployment.state or {}).get("environment", "")),
        "status": deployment.status,
        "requested_by": deployment.created_by,
        "version": deployment.version,
    }


def facts(
    session: Session,
    ctx: DeployContext,
    actor: Actor,
    action: str,
    service: ServiceRow,
    release: ReleaseRow,
    spec: ServiceSpec | None,
    environment: str | None,
    deployment: DeploymentRow | None = None,
) -> Facts:
    """What the policies are asked about; without a `spec` (the release's code.yaml cannot
    be read) there is no environment document, and time is UTC."""
    where, zone = None, "UTC"
    if spec is not None and environment is not None:
        where, zone = environment_doc(spec, environment), spec.environment(environment).timezone
    stored = gather(session, service.id, release.version, release.sha)
    return Facts(
        action=action,
        principal=principal_of(actor.name, actor.bindings),
        now=ctx.now,
        timezone=zone,
        service={"name": service.name, "repo": service.repo or None},
        environment=where,
        release=release_doc(session, ctx, service, release, stored.clean_run),
        history=stored.history,
        assessment=stored.assessment,
        approvals=[] if deployment is None else approvals_of(deployment),
        deployment=None if deployment is None else deployment_doc(deployment),
    )


def check_without_spec(
    session: Session,
    ctx: DeployContext,
    actor: Actor,
    action: str,
    service: ServiceRow,
    release: ReleaseRow,
    deployment: DeploymentRow | None,
    resource: str,
) -> None:
    """Ask the operator's policies alone where the release's code.yaml cannot be read (its
    repository is remote or unreachable): `environment` is null (an abort's
    `deployment.environment` names it)."""
    if not ctx.policy.operator_sets():
        return
    asked = facts(session, ctx, actor, action, service, release, None, None, deployment)
    ctx.policy.enforce(session, asked, resource=resource)


def check(
    session: Session,
    ctx: DeployContext,
    actor: Actor,
    action: str,
    subject: tuple[ServiceRow, ReleaseRow, ServiceSpec, Repository],
    environment: str | None,
    deployment: DeploymentRow | None = None,
    resource: str = "",
) -> None:
    """Ask every policy about `action`; PolicyDeniedError when one refuses or fails."""
    service, release, spec, repo = subject
    sets = service_sets(repo, release.sha, spec)
    if not sets and not ctx.policy.operator_sets():
        return  # no policy to ask: no facts to gather, nothing to record
    asked = facts(session, ctx, actor, action, service, release, spec, environment, deployment)
    ctx.policy.enforce(session, asked, sets, resource=resource)


def evaluate(
    session: Session,
    ctx: DeployContext,
    actor: Actor,
    action: str,
    service_name: str,
    environment: str | None,
    version: str | None,
) -> Decision:
    """What the policies would decide about `action`, without acting or recording."""
    from code_engine.catalog.store import require_service
    from code_engine.deploy import environments as envs
    from code_engine.deploy.gitrepo import spec_at
    from code_engine.deploy.service import _release, service_repo

    service = require_service(session, service_name)
    release = _release(session, service, version)
    repo = service_repo(ctx, service)
    spec = spec_at(repo, release.sha)
    deployment = None
    if environment is not None:
        spec.environment(environment)  # NotFoundError names the known ones
        if action in ("abort", "approve"):
            env = session.scalars(
                select(EnvironmentRow).where(
                    EnvironmentRow.service_id == service.id, EnvironmentRow.name == environment
                )
            ).first()
            if env is not None:
                deployment = envs.open_deployment(session, service.id, env.id)
    asked = facts(session, ctx, actor, action, service, release, spec, environment, deployment)
    return ctx.policy.decide(asked, service_sets(repo, release.sha, spec))
