"""`/api/v1/deployments`: run deployments through CODE, or record ones done elsewhere."""

from __future__ import annotations

from typing import Literal

from fastapi import Response
from pydantic import BaseModel, Field

from code_engine.api.deps import (
    Cursor,
    Deployer,
    Limit,
    Now,
    RuntimeDep,
    SessionDep,
    Viewer,
    authorize,
    run_read,
    visible,
)
from code_engine.api.routers import deployment_actions  # noqa: F401 - its routes come first
from code_engine.api.routers.deploy_common import (
    DeploymentDetail,
    DeploymentPublic,
    actor,
    deploy_context,
    detail,
    forbidden,
    router,
)
from code_engine.api.schemas import PageOut, UtcDatetime, page_response
from code_engine.audit import trail as audit
from code_engine.auth.roles import Role
from code_engine.catalog.store import require_environment, require_service
from code_engine.deploy import store
from code_engine.deploy.protection import NotADeployerError, UnqualifiedReleaseError
from code_engine.deploy.service import DeployRequest, start_deployment
from code_engine.deploy.store import DeploymentRecord, Status
from code_engine.dora import fill
from code_engine.dora.recording import record_deployment
from code_engine.dora.runs import deployment_environment, existing_deployment_environment
from code_engine.errors import UserError

__all__ = ["router"]
RecordedStatus = Literal["pending", "progressing", "paused", "succeeded", "failed", "rolled_back"]


class DeploymentCreate(BaseModel):
    service: str
    environment: str
    version: str | None = Field(
        None, min_length=1, max_length=128, description="Default with run: the newest release."
    )
    run: bool = Field(
        False,
        description="true: CODE rolls the release out with the environment's strategy "
        "(status starts at pending, or awaiting_approval where code.yaml asks for one); "
        "false: record a deployment done elsewhere.",
    )
    status: RecordedStatus = "succeeded"
    external_id: str | None = Field(None, max_length=200, description="Idempotency key.")
    strategy: str = "all_at_once"
    trigger: str = "manual"
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    commits: list[str] = Field(default_factory=list, description="Commit shas delivered.")
    message: str = ""


@router.get("", response_model=PageOut[DeploymentPublic], summary="List deployments")
async def list_deployments(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Viewer,
    service: str | None = None,
    environment: str | None = None,
    status: Status | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    if environment and not service:
        raise UserError("environment: filter by service too (an environment belongs to one)")
    if environment:
        authorize(principal, Role.viewer, environment)
    shown = visible(principal)

    def work() -> Response:
        service_id = env_id = None
        if service:
            service_id = require_service(session, service).id
            if environment:
                env_id = require_environment(session, service_id, environment).id
        page = store.list_deployments(
            session,
            limit,
            cursor,
            service_id=service_id,
            environment_id=env_id,
            status=status,
            environments=shown,
        )
        # The rows are exactly DeploymentPublic's columns: serialized once, never re-validated.
        return page_response(list(page.items), page.next_cursor)

    return await run_read(runtime, work)


@router.get(
    "/{deployment_id}",
    response_model=DeploymentDetail,
    summary="Show a deployment, its progress, measurements and events",
)
def show_deployment(deployment_id: int, session: SessionDep, principal: Viewer) -> DeploymentDetail:
    environment = deployment_environment(session, deployment_id)
    if environment is not None:
        authorize(principal, Role.viewer, environment)
    return detail(session, deployment_id)


@router.post(
    "",
    response_model=DeploymentDetail,
    status_code=201,
    summary="Deploy a release (run: true) or record a deployment (idempotent by external_id)",
)
def create_deployment(
    body: DeploymentCreate, session: SessionDep, principal: Deployer, now: Now, runtime: RuntimeDep
) -> DeploymentDetail:
    authorize(principal, Role.deployer, body.environment)
    replaced = existing_deployment_environment(session, body.external_id)
    if replaced is not None:
        authorize(principal, Role.deployer, replaced)
    if body.run:
        request = DeployRequest(
            body.service, body.environment, body.version, body.trigger, body.message
        )
        try:
            row = start_deployment(session, deploy_context(runtime, now), actor(principal), request)
        except (NotADeployerError, UnqualifiedReleaseError) as exc:
            raise forbidden(exc) from exc
        return detail(session, row.id)
    return _record(body, session, principal.name, now)


def _record(body: DeploymentCreate, session: SessionDep, by: str, now: Now) -> DeploymentDetail:
    if body.version is None:
        raise UserError("version is required to record a deployment")
    service = require_service(session, body.service)
    env = require_environment(session, service.id, body.environment)
    release = store.find_release(session, service.id, body.version)
    row, outcome = record_deployment(
        session,
        DeploymentRecord(
            service_id=service.id,
            environment_id=env.id,
            version=body.version,
            status=body.status,
            created_at=now,
            release_id=release.id if release else None,
            external_id=body.external_id,
            strategy=body.strategy,
            trigger=body.trigger,
            source="api",
            created_by=by,
            message=body.message,
            started_at=body.started_at,
            finished_at=body.finished_at,
            commits=body.commits,
        ),
        repo=fill.repository(service.repo),
    )
    if outcome != "unchanged":
        audit.record(
            session,
            at=now,
            principal=by,
            action="deployment.record" if outcome == "created" else "deployment.update",
            resource=f"service/{service.name}/env/{env.name}/deployment/{row.id}",
            detail={"version": body.version, "status": body.status},
        )
    return detail(session, row.id)
