"""Service functions of progressive delivery: start, promote, roll back and steer deployments.

They check RBAC-independent rules (the environment's protection in `code.yaml`), write the
deployment with its planned rollout, and return rows; the controller does the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from code_engine.audit import trail as audit
from code_engine.auth.roles import Binding
from code_engine.catalog.store import (
    EnvironmentDraft,
    list_environments,
    require_environment,
    require_service,
    sync_environments,
)
from code_engine.deploy import approvals, plan, policy_hook, protection, store
from code_engine.deploy import environments as envs
from code_engine.deploy.commands import add_command
from code_engine.deploy.gitrepo import Repository, spec_at
from code_engine.deploy.kubernetes.argocd import ArgoCD
from code_engine.deploy.kubernetes.preflight import plan_release
from code_engine.deploy.kubernetes.state import GITOPS, KUBERNETES, GitOpsState
from code_engine.deploy.rollout import AllAtOnce, Command, RolloutSpec, new_rollout, state_to_dict
from code_engine.errors import ConflictError, NotFoundError, UserError
from code_engine.pipeline import store as pipeline_store
from code_engine.policy.gate import DEFAULT_GATE, Gate
from code_engine.spec import KubernetesTarget, Protection, ServiceSpec
from code_engine.store.tables import DeploymentRow, EnvironmentRow, ReleaseRow, ServiceRow


@dataclass(frozen=True)
class Actor:
    """Who asks: a principal's name and role bindings."""

    name: str
    bindings: frozenset[Binding] = field(default_factory=frozenset)


@dataclass(frozen=True)
class DeployContext:
    """Time, the data directory and access to service repositories."""

    now: datetime
    data_dir: Path
    open_repo: Callable[[str], Repository]
    argocd: ArgoCD | None = None  # Kubernetes environments: where their rollouts are read
    kubectl: str = ""  # Kubernetes environments: the kustomize to render with (CODE_KUBECTL)
    policy: Gate = DEFAULT_GATE  # asked before every action (docs/policy.md)


@dataclass(frozen=True)
class DeployRequest:
    service: str
    environment: str
    version: str | None = None
    trigger: str = "manual"
    message: str = ""
    fast: bool = False  # all at once, whatever the environment's strategy (rollbacks)
    revert_of: str | None = None  # Kubernetes: roll back by reverting this GitOps commit


def resource(service: str, environment: str, deployment_id: int) -> str:
    return f"service/{service}/env/{environment}/deployment/{deployment_id}"


def service_repo(ctx: DeployContext, service: ServiceRow) -> Repository:
    if not service.repo:
        raise UserError(
            f"service {service.name} has no repository; an admin sets it with "
            f"PATCH /api/v1/services/{service.name}"
        )
    return ctx.open_repo(service.repo)


def _release(session: Session, service: ServiceRow, version: str | None) -> ReleaseRow:
    if version is not None:
        return store.require_release(session, service.id, version)
    latest = envs.latest_release(session, service.id)
    if latest is None:
        raise NotFoundError(f"service {service.name} has no release yet: codectl release create")
    return latest


def _sync_environments(
    session: Session, service: ServiceRow, spec: ServiceSpec, now: datetime
) -> None:
    """The spec's environments in its order; others the catalog knows keep their history
    and go after them."""
    drafts = [
        EnvironmentDraft(e.name, e.target.kind, e.protection.requires_previous)
        for e in spec.environments
    ]
    named = {e.name for e in spec.environments}
    drafts.extend(
        EnvironmentDraft(env.name, env.target_kind, env.requires_previous)
        for env in list_environments(session, service.id)
        if env.name not in named
    )
    sync_environments(session, service, drafts, now)


def start_deployment(
    session: Session, ctx: DeployContext, actor: Actor, request: DeployRequest
) -> DeploymentRow:
    """Plan a deployment of a release to an environment; the controller runs it."""
    service = require_service(session, request.service)
    release = _release(session, service, request.version)
    repo = service_repo(ctx, service)
    spec = spec_at(repo, release.sha)
    if spec.service != service.name:
        raise UserError(
            f"code.yaml at {release.sha[:12]} describes {spec.service!r}, not {service.name!r}"
        )
    rules = spec.environment(request.environment).protection
    action = policy_hook.ACTION_OF_TRIGGER.get(request.trigger, "deploy")
    where = f"service/{service.name}/env/{request.environment}"
    subject = (service, release, spec, repo)
    policy_hook.check(session, ctx, actor, action, subject, request.environment, resource=where)
    _sync_environments(session, service, spec, ctx.now)
    env = require_environment(session, service.id, request.environment)
    # one deployment at a time: concurrent requests for this environment queue up here
    session.execute(select(EnvironmentRow.id).where(EnvironmentRow.id == env.id).with_for_update())
    protection.check_deployer(rules, env.name, actor.name, actor.bindings)
    previous = spec.previous_environment(env.name)
    passed = False
    if previous is not None:
        before = require_environment(session, service.id, previous.name)
        passed = release.version in envs.succeeded_versions(session, service.id, before.id)
    protection.check_previous(
        rules, env.name, release.version, None if previous is None else previous.name, passed
    )
    _check_pipeline(session, spec, env, release)
    active = envs.open_deployment(session, service.id, env.id)
    if active is not None:
        raise busy(active, env.name)
    current = envs.current_deployment(session, service.id, env.id)
    if current is not None and current.version == release.version:
        raise ConflictError(f"{env.name} already serves {release.version}")
    if isinstance(spec.environment(env.name).target, KubernetesTarget):
        return _start_gitops(session, ctx, actor, request, spec, service, env, release, repo)
    canary = plan.launch_of(spec, env.name, release.version, release.sha, str(repo.path))
    rollout_spec = plan.rollout_spec(spec, env.name, first=current is None)
    if request.fast:
        rollout_spec = RolloutSpec(AllAtOnce(), rollout_spec.instances, rollout_spec.ready_timeout)
    launches = {canary.version: canary.to_dict()}
    stable_sha = None
    if current is not None:
        stable = _stable_launch(session, ctx, service, env.name, current)
        launches[stable.version] = stable.to_dict()
        stable_sha = stable.sha
    state: dict[str, Any] = {
        "service": service.name,
        "environment": env.name,
        "launch": launches,
        "router": plan.router_plan(spec, env.name).to_dict(),
        "target": spec.environment(env.name).target.kind,  # the worker's registry key
        "measurements": [],
        "events": [],
    }
    kind = (
        "all_at_once"
        if isinstance(rollout_spec.strategy, AllAtOnce)
        else spec.strategy_for(env.name).kind
    )
    started = _Start(ctx, actor, request, service, env, release, repo)
    row = _record_start(session, started, rules, state, kind, stable_sha, current)
    stable_version = None if current is None else current.version
    rollout = new_rollout(str(row.id), release.version, stable_version, rollout_spec)
    # the rollout state (codec format) at the top, beside what the controller needs
    row.state = {**state, **state_to_dict(rollout)}
    session.flush()
    return row


def _start_gitops(
    session: Session,
    ctx: DeployContext,
    actor: Actor,
    request: DeployRequest,
    spec: ServiceSpec,
    service: ServiceRow,
    env: EnvironmentRow,
    release: ReleaseRow,
    repo: Repository,
) -> DeploymentRow:
    """A Kubernetes deployment: checked (render, validate, GitOps remote, Argo CD) before
    anything is written; the GitOps controller publishes it and follows Argo CD."""
    planned = plan_release(
        repo,
        str(service.repo),
        spec,
        env.name,
        release.version,
        release.sha,
        ctx.argocd,
        ctx.kubectl,
    )
    gitops = GitOpsState(0, planned, revert_of=request.revert_of)
    state: dict[str, Any] = {
        "service": service.name,
        "environment": env.name,
        "launch": {},  # nothing runs here: the cluster does, as Argo CD syncs it
        "target": KUBERNETES,
        GITOPS: gitops.to_dict(),
        "measurements": [],
        "events": [],
    }
    current = envs.current_deployment(session, service.id, env.id)
    stable_sha = None
    if current is not None:
        stable_sha = store.require_release(session, service.id, current.version).sha
    rules = spec.environment(env.name).protection
    strategy = "revert" if request.revert_of else spec.strategy_for(env.name).kind
    started = _Start(ctx, actor, request, service, env, release, repo)
    detail = {"application": planned.application}
    row = _record_start(session, started, rules, state, strategy, stable_sha, current, detail)
    row.state = {**state, GITOPS: {**state[GITOPS], "deployment_id": row.id}}
    session.flush()
    return row


@dataclass(frozen=True)
class _Start:
    """What a deployment being started is about."""

    ctx: DeployContext
    actor: Actor
    request: DeployRequest
    service: ServiceRow
    env: EnvironmentRow
    release: ReleaseRow
    repo: Repository


def _record_start(
    session: Session,
    start: _Start,
    rules: Protection,
    state: dict[str, Any],
    strategy: str,
    stable_sha: str | None,
    current: DeploymentRow | None,
    detail: dict[str, Any] | None = None,
) -> DeploymentRow:
    """Record the deployment (awaiting approval where the environment asks for one; `state`
    gains the review) through the one writer, and audit its start; whatever the target."""
    ctx, actor, request, env, release = (
        start.ctx,
        start.actor,
        start.request,
        start.env,
        start.release,
    )
    status, message = "pending", request.message
    if rules.approval:
        state.update(approvals.request(rules, env.name, actor.name, ctx.now))
        status, message = approvals.AWAITING, approvals.waiting_message(env.name)
    record = store.DeploymentRecord(
        service_id=start.service.id,
        environment_id=env.id,
        version=release.version,
        status=status,
        created_at=ctx.now,
        release_id=release.id,
        strategy=strategy,
        trigger=request.trigger,
        source=envs.RUN_SOURCE,
        created_by=actor.name,
        message=message,
        commits=start.repo.commits(stable_sha, release.sha),
        state=state,
    )
    row = _claim(session, record, env.name)
    audit.record(
        session,
        at=ctx.now,
        principal=actor.name,
        action="deployment.start",
        resource=resource(start.service.name, env.name, row.id),
        detail={
            "version": release.version,
            "from": None if current is None else current.version,
            "trigger": request.trigger,
            "awaiting_approval": rules.approval,
            **(detail or {}),
        },
    )
    return row


def _check_pipeline(
    session: Session, spec: ServiceSpec, env: EnvironmentRow, release: ReleaseRow
) -> None:
    """Refuse an unqualified release where `requires_pipeline` holds; a release that already
    succeeded in the environment is admitted again (a rollback must not wait for CI)."""
    if not spec.environment(env.name).requires_pipeline:
        return
    if release.version in envs.succeeded_versions(session, env.service_id, env.id):
        return
    qualification = pipeline_store.qualification(session, env.service_id, release.sha)
    protection.check_pipeline(env.name, release.version, qualification)


def busy(active: DeploymentRow, environment: str) -> ConflictError:
    """The refusal of a second rollout while `active` holds the environment."""
    return ConflictError(
        f"deployment {active.id} of {active.version} is {active.status} in {environment}; "
        f"wait for it (codectl watch {environment} follows it), or abort it"
    )


def _claim(session: Session, record: store.DeploymentRecord, environment: str) -> DeploymentRow:
    """Insert the deployment; the database refuses a second one in flight in the environment
    (a unique partial index), so of two concurrent requests exactly one gets here first."""
    try:
        row, _ = store.record_deployment(session, record)
    except IntegrityError as exc:
        # the winner has committed (the insert waited for it): read it on a fresh session,
        # this one's transaction is failed and left to the caller to roll back
        with Session(session.get_bind()) as fresh:
            winner = envs.open_deployment(fresh, record.service_id, record.environment_id)
            if winner is None:
                raise
            raise busy(winner, environment) from exc
    return row


def _stable_launch(
    session: Session,
    ctx: DeployContext,
    service: ServiceRow,
    environment: str,
    current: DeploymentRow,
) -> plan.Launch:
    """How the current version runs: as its own deployment planned it."""
    saved = (current.state or {}).get("launch", {}).get(current.version)
    if saved is not None:
        return plan.Launch.from_dict(saved)
    release = store.require_release(session, service.id, current.version)
    repo = service_repo(ctx, service)
    return plan.launch_of(
        spec_at(repo, release.sha), environment, release.version, release.sha, str(repo.path)
    )


def promote(
    session: Session, ctx: DeployContext, actor: Actor, service: str, source: str, target: str
) -> DeploymentRow:
    """Deploy to `target` the release that serves `source`."""
    row = require_service(session, service)
    env = require_environment(session, row.id, source)
    current = envs.current_deployment(session, row.id, env.id)
    if current is None:
        raise ConflictError(f"nothing to promote: no release has succeeded in {source} yet")
    request = DeployRequest(
        service, target, current.version, trigger="promote", message=f"from {source}"
    )
    return start_deployment(session, ctx, actor, request)


def rollback(
    session: Session,
    ctx: DeployContext,
    actor: Actor,
    service: str,
    environment: str,
    to: str | None,
) -> DeploymentRow:
    """Abort the rollout in progress, or deploy (all at once) the previous good release."""
    row = require_service(session, service)
    env = require_environment(session, row.id, environment)
    active = envs.open_deployment(session, row.id, env.id)
    if active is not None and to is None:
        send_command(session, ctx, actor, active.id, Command.ABORT)
        return active
    if to is None:
        versions = envs.succeeded_versions(session, row.id, env.id)
        current = envs.current_deployment(session, row.id, env.id)
        serving = None if current is None else current.version
        to = next((v for v in versions if v != serving), None)
        if to is None:
            raise ConflictError(f"no earlier release succeeded in {environment} to roll back to")
        # Kubernetes: git revert of the commit that serves, never a sync to an old revision
        revert_of = None if current is None else (current.state or {}).get(GITOPS, {}).get("commit")
        request = DeployRequest(
            service, environment, to, trigger="rollback", fast=True, revert_of=revert_of
        )
        return start_deployment(session, ctx, actor, request)
    request = DeployRequest(service, environment, to, trigger="rollback", fast=True)
    return start_deployment(session, ctx, actor, request)


def send_command(
    session: Session, ctx: DeployContext, actor: Actor, deployment_id: int, command: Command
) -> DeploymentRow:
    """Queue a person's command for a running deployment."""
    row = store.get_deployment(session, deployment_id)
    if not envs.is_run(row):
        raise ConflictError(f"deployment {row.id} was recorded, not run by CODE")
    if row.status in store.FINAL_STATUSES:
        raise ConflictError(f"deployment {row.id} is already {row.status}")
    service, environment = row.state.get("service", ""), row.state.get("environment", "")
    if GITOPS in row.state and command is not Command.ABORT:
        raise ConflictError(
            f"deployment {row.id} runs in Kubernetes, where Argo Rollouts steps it: "
            "abort it (codectl rollback), or pause and promote it with Argo Rollouts"
        )
    if command is Command.ABORT:
        _check_policy(session, ctx, actor, "abort", row)
    if row.status == approvals.AWAITING:
        if command is not Command.ABORT:
            raise ConflictError(
                f"deployment {row.id} has not started: it is awaiting approval "
                f"(codectl approve {environment}, by a second person), or abort it"
            )
        approvals.abort(session, row.id, actor.name, ctx.now)
    else:
        add_command(session, row.id, command, actor.name, ctx.now)
    audit.record(
        session,
        at=ctx.now,
        principal=actor.name,
        action=f"deployment.{command.value}",
        resource=resource(service, environment, row.id),
    )
    return row


def review(
    session: Session,
    ctx: DeployContext,
    actor: Actor,
    deployment_id: int,
    approve: bool,
    comment: str = "",
) -> DeploymentRow:
    """Approve (the controller then runs it) or reject a deployment awaiting approval."""
    decide = approvals.approve if approve else approvals.reject
    if approve:
        _check_policy(session, ctx, actor, "approve", store.get_deployment(session, deployment_id))
    row = decide(session, deployment_id, actor.name, actor.bindings, comment, ctx.now)
    audit.record(
        session,
        at=ctx.now,
        principal=actor.name,
        action="deployment.approve" if approve else "deployment.reject",
        resource=resource(row.state.get("service", ""), row.state.get("environment", ""), row.id),
        detail={"version": row.version, "requested_by": row.created_by, "comment": comment},
    )
    session.flush()
    return row


def _check_policy(
    session: Session, ctx: DeployContext, actor: Actor, action: str, row: DeploymentRow
) -> None:
    """Ask the policies about an action on an existing deployment, with its release's own."""
    service = require_service(session, str(row.state.get("service", "")))
    release = store.require_release(session, service.id, row.version)
    environment = str(row.state.get("environment", ""))
    where = resource(service.name, environment, row.id)
    try:
        repo = service_repo(ctx, service)
        spec = spec_at(repo, release.sha)
    except UserError:
        if action != "abort":
            raise
        # the emergency stop must not wait for a repository: the operator's policies decide
        policy_hook.check_without_spec(session, ctx, actor, action, service, release, row, where)
        return
    subject = (service, release, spec, repo)
    policy_hook.check(
        session, ctx, actor, action, subject, environment, deployment=row, resource=where
    )
