"""`/api/v1/releases`: versions of a service at a git commit."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from code_engine.api.deps import Cursor, Developer, Limit, Now, SessionDep, Viewer
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public
from code_engine.catalog.store import require_service
from code_engine.deploy import store
from code_engine.policy import audit

router = APIRouter(prefix="/api/v1/releases", tags=["releases"], responses=ERROR_RESPONSES)


class ReleaseCreate(BaseModel):
    service: str
    version: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
    sha: str = Field("", pattern=r"^([0-9a-f]{7,64})?$")
    artifact: str = ""


class ReleasePublic(Public):
    id: int
    version: str
    sha: str
    artifact: str
    created_by: str
    created_at: datetime


@router.get("", response_model=PageOut[ReleasePublic], summary="List releases")
def list_releases(
    session: SessionDep,
    _: Viewer,
    service: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[ReleasePublic]:
    service_id = require_service(session, service).id if service else None
    page = store.list_releases(session, service_id, limit, cursor)
    return PageOut(
        items=[ReleasePublic.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.post("", response_model=ReleasePublic, status_code=201, summary="Record a release")
def create_release(
    body: ReleaseCreate, session: SessionDep, principal: Developer, now: Now
) -> ReleasePublic:
    service = require_service(session, body.service)
    row = store.create_release(
        session, service.id, body.version, body.sha, body.artifact, principal.name, now
    )
    audit.record(
        session,
        at=now,
        principal=principal.name,
        action="release.create",
        resource=f"service/{service.name}/release/{row.version}",
    )
    return ReleasePublic.model_validate(row)
