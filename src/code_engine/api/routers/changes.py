"""`/api/v1/changes`: commits known to CODE, per service."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from code_engine.api.deps import (
    Cursor,
    GlobalDeveloper,
    Limit,
    RuntimeDep,
    SessionDep,
    Viewer,
    run_read,
)
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public, UtcDatetime
from code_engine.catalog.store import require_service
from code_engine.dora import changes
from code_engine.dora.events import CommitEvent

router = APIRouter(prefix="/api/v1/changes", tags=["changes"], responses=ERROR_RESPONSES)


class ChangeCreate(BaseModel):
    service: str
    sha: str = Field(pattern=r"^[0-9a-f]{7,64}$")
    message: str = ""
    authored_at: UtcDatetime
    committed_at: UtcDatetime
    first_commit_at: UtcDatetime | None = None


class ChangePublic(Public):
    id: int
    sha: str
    message: str
    conventional_type: str | None
    authored_at: datetime
    committed_at: datetime
    first_commit_at: datetime | None


@router.get("", response_model=PageOut[ChangePublic], summary="List changes")
async def list_changes(
    session: SessionDep,
    runtime: RuntimeDep,
    _: Viewer,
    service: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[ChangePublic]:
    def work() -> PageOut[ChangePublic]:
        service_id = require_service(session, service).id if service else None
        page = changes.list_changes(session, service_id, limit, cursor)
        return PageOut(
            items=[ChangePublic.model_validate(r) for r in page.items], next_cursor=page.next_cursor
        )

    return await run_read(runtime, work)


@router.post(
    "",
    response_model=ChangePublic,
    summary="Record a change (idempotent by sha; the newer version wins)",
)
def record_change(body: ChangeCreate, session: SessionDep, _: GlobalDeveloper) -> ChangePublic:
    service = require_service(session, body.service)
    row, _outcome = changes.record_change(
        session,
        service.id,
        CommitEvent(
            sha=body.sha,
            service=service.name,
            authored_at=body.authored_at,
            committed_at=body.committed_at,
            message=body.message,
            first_commit_at=body.first_commit_at,
        ),
    )
    return ChangePublic.model_validate(row)
