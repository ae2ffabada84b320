"""Steering deployments: approve or reject, pause, resume, abort, promote; promote between
environments, roll back, and the status of a service's environments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from code_engine.api.deps import Deployer, Now, RuntimeDep, SessionDep, Viewer, authorize, visible
from code_engine.api.routers.deploy_common import (
    DeploymentDetail,
    actor,
    deploy_context,
    detail,
    forbidden,
    router,
)
from code_engine.auth.roles import Role
from code_engine.auth.tokens import Principal
from code_engine.deploy import restarts, service, store
from code_engine.deploy.protection import (
    NotADeployerError,
    SelfApprovalError,
    UnqualifiedReleaseError,
)
from code_engine.deploy.rollout import Command
from code_engine.deploy.views import environment_status
from code_engine.runtime import Runtime


class PromoteBody(BaseModel):
    service: str
    source: str = Field(alias="from", description="Environment whose release is promoted.")
    target: str = Field(alias="to", description="Environment to deploy it to.")

    model_config = {"populate_by_name": True}


class ReviewBody(BaseModel):
    comment: str = Field("", max_length=2000, description="Why; kept with the review.")


class RollbackBody(BaseModel):
    service: str
    environment: str
    to: str | None = Field(
        None,
        description="Version to go back to; default: abort the rollout in progress, "
        "or the release that served before the current one.",
    )


@router.get("/status", summary="What serves each environment of a service, and what rolls out")
def status(
    service: str, session: SessionDep, principal: Viewer, environment: str | None = None
) -> list[dict[str, Any]]:
    if environment is not None:
        authorize(principal, Role.viewer, environment)
    shown = visible(principal)
    rows = environment_status(session, service, environment)
    return [row for row in rows if shown is None or row["environment"] in shown]


@router.post(
    "/promote",
    response_model=DeploymentDetail,
    status_code=201,
    summary="Deploy to one environment the release serving another",
)
def promote(
    body: PromoteBody, session: SessionDep, principal: Deployer, now: Now, runtime: RuntimeDep
) -> DeploymentDetail:
    authorize(principal, Role.deployer, body.target)
    try:
        row = service.promote(
            session,
            deploy_context(runtime, now),
            actor(principal),
            body.service,
            body.source,
            body.target,
        )
    except (NotADeployerError, UnqualifiedReleaseError) as exc:
        raise forbidden(exc) from exc
    return detail(session, row.id)


@router.post(
    "/rollback",
    response_model=DeploymentDetail,
    status_code=201,
    summary="Abort the rollout in progress, or go back to an earlier release",
)
def rollback(
    body: RollbackBody, session: SessionDep, principal: Deployer, now: Now, runtime: RuntimeDep
) -> DeploymentDetail:
    authorize(principal, Role.deployer, body.environment)
    try:
        row = service.rollback(
            session,
            deploy_context(runtime, now),
            actor(principal),
            body.service,
            body.environment,
            body.to,
        )
    except (NotADeployerError, UnqualifiedReleaseError) as exc:
        raise forbidden(exc) from exc
    return detail(session, row.id)


class RestartBody(BaseModel):
    service: str
    environment: str


@router.post(
    "/restart",
    response_model=DeploymentDetail,
    status_code=202,
    summary="Restart the instances serving an environment one by one (rotated secrets)",
)
def restart(
    body: RestartBody, session: SessionDep, principal: Deployer, now: Now
) -> DeploymentDetail:
    authorize(principal, Role.deployer, body.environment)
    row = restarts.request_restart(session, actor(principal), body.service, body.environment, now)
    return detail(session, row.id)


def _command(
    deployment_id: int,
    command: Command,
    session: Session,
    principal: Principal,
    now: datetime,
    runtime: Runtime,
) -> DeploymentDetail:
    row = store.get_deployment(session, deployment_id)
    authorize(principal, Role.deployer, store.deployment_summary(session, row.id)["environment"])
    service.send_command(session, deploy_context(runtime, now), actor(principal), row.id, command)
    return detail(session, row.id)


@router.post("/{deployment_id}/pause", response_model=DeploymentDetail, summary="Hold the rollout")
def pause(
    deployment_id: int, session: SessionDep, principal: Deployer, now: Now, runtime: RuntimeDep
) -> DeploymentDetail:
    return _command(deployment_id, Command.PAUSE, session, principal, now, runtime)


@router.post(
    "/{deployment_id}/resume", response_model=DeploymentDetail, summary="Continue a held rollout"
)
def resume(
    deployment_id: int, session: SessionDep, principal: Deployer, now: Now, runtime: RuntimeDep
) -> DeploymentDetail:
    return _command(deployment_id, Command.RESUME, session, principal, now, runtime)


@router.post(
    "/{deployment_id}/abort",
    response_model=DeploymentDetail,
    summary="Route everything back to the stable release and stop the new one",
)
def abort(
    deployment_id: int, session: SessionDep, principal: Deployer, now: Now, runtime: RuntimeDep
) -> DeploymentDetail:
    return _command(deployment_id, Command.ABORT, session, principal, now, runtime)


@router.post(
    "/{deployment_id}/promote",
    response_model=DeploymentDetail,
    summary="Skip the remaining steps: the new release gets 100% now",
)
def promote_full(
    deployment_id: int, session: SessionDep, principal: Deployer, now: Now, runtime: RuntimeDep
) -> DeploymentDetail:
    return _command(deployment_id, Command.PROMOTE_FULL, session, principal, now, runtime)


def _review(
    deployment_id: int,
    approve: bool,
    body: ReviewBody | None,
    session: Session,
    principal: Principal,
    now: datetime,
    runtime: Runtime,
) -> DeploymentDetail:
    row = store.get_deployment(session, deployment_id)
    authorize(principal, Role.deployer, store.deployment_summary(session, row.id)["environment"])
    comment = "" if body is None else body.comment
    try:
        service.review(
            session, deploy_context(runtime, now), actor(principal), row.id, approve, comment
        )
    except (NotADeployerError, SelfApprovalError) as exc:
        raise forbidden(exc) from exc
    return detail(session, row.id)


@router.post(
    "/{deployment_id}/approve",
    response_model=DeploymentDetail,
    summary="Approve a deployment awaiting approval (not your own): the controller starts it",
)
def approve(
    deployment_id: int,
    session: SessionDep,
    principal: Deployer,
    now: Now,
    runtime: RuntimeDep,
    body: ReviewBody | None = None,
) -> DeploymentDetail:
    return _review(deployment_id, True, body, session, principal, now, runtime)


@router.post(
    "/{deployment_id}/reject",
    response_model=DeploymentDetail,
    summary="Reject a deployment awaiting approval: it ends without running",
)
def reject(
    deployment_id: int,
    session: SessionDep,
    principal: Deployer,
    now: Now,
    runtime: RuntimeDep,
    body: ReviewBody | None = None,
) -> DeploymentDetail:
    return _review(deployment_id, False, body, session, principal, now, runtime)
