"""`/api/v1/deployments`: read deployments and record ones done elsewhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from code_engine.api.deps import Cursor, Deployer, Limit, Now, SessionDep, Viewer, authorize
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public, UtcDatetime
from code_engine.auth.roles import Role
from code_engine.catalog.store import require_environment, require_service
from code_engine.deploy import store
from code_engine.deploy.store import DeploymentRecord
from code_engine.policy import audit

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"], responses=ERROR_RESPONSES)
Status = Literal["pending", "progressing", "paused", "succeeded", "failed", "rolled_back"]


class DeploymentCreate(BaseModel):
    service: str
    environment: str
    version: str = Field(min_length=1, max_length=128)
    status: Status = "succeeded"
    external_id: str | None = Field(None, max_length=200, description="Idempotency key.")
    strategy: str = "all_at_once"
    trigger: str = "manual"
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    commits: list[str] = Field(default_factory=list, description="Commit shas delivered.")
    message: str = ""


class DeploymentPublic(Public):
    id: int
    external_id: str | None
    service: str
    environment: str
    version: str
    strategy: str
    status: str
    trigger: str
    source: str
    created_by: str
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DeploymentDetail(DeploymentPublic):
    commits: list[str]
    state: dict[str, Any]


@router.get("", response_model=PageOut[DeploymentPublic], summary="List deployments")
def list_deployments(
    session: SessionDep,
    _: Viewer,
    service: str | None = None,
    environment: str | None = None,
    status: Status | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[DeploymentPublic]:
    service_id = env_id = None
    if service:
        service_id = require_service(session, service).id
        if environment:
            env_id = require_environment(session, service_id, environment).id
    page = store.list_deployments(
        session, limit, cursor, service_id=service_id, environment_id=env_id, status=status
    )
    # Mappings go straight to the response model: one validation pass, no ORM objects.
    return PageOut.model_construct(items=list(page.items), next_cursor=page.next_cursor)  # type: ignore[arg-type]


@router.get("/{deployment_id}", response_model=DeploymentDetail, summary="Show a deployment")
def show_deployment(deployment_id: int, session: SessionDep, _: Viewer) -> DeploymentDetail:
    row = store.get_deployment(session, deployment_id)
    summary = store.deployment_summary(session, deployment_id)
    return DeploymentDetail(**summary, commits=store.commits_of(session, row.id), state=row.state)


@router.post(
    "",
    response_model=DeploymentDetail,
    status_code=201,
    summary="Record a deployment (idempotent by external_id)",
)
def record_deployment(
    body: DeploymentCreate, session: SessionDep, principal: Deployer, now: Now
) -> DeploymentDetail:
    authorize(principal, Role.deployer, body.environment)
    service = require_service(session, body.service)
    env = require_environment(session, service.id, body.environment)
    release = store.find_release(session, service.id, body.version)
    row, created = store.record_deployment(
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
            created_by=principal.name,
            message=body.message,
            started_at=body.started_at,
            finished_at=body.finished_at,
            commits=body.commits,
        ),
    )
    audit.record(
        session,
        at=now,
        principal=principal.name,
        action="deployment.record" if created else "deployment.update",
        resource=f"service/{service.name}/env/{env.name}/deployment/{row.id}",
        detail={"version": body.version, "status": body.status},
    )
    return show_deployment(row.id, session, principal)
