"""`/api/v1/audit`: the audit trail, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter

from code_engine.api.deps import Admin, Cursor, Limit, RuntimeDep, SessionDep, run_read
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public
from code_engine.audit import trail as audit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)


class AuditEventPublic(Public):
    id: int
    at: datetime
    principal: str
    action: str
    resource: str
    outcome: str
    detail: dict[str, Any]


@router.get("", response_model=PageOut[AuditEventPublic], summary="List audit events")
async def list_audit_events(
    session: SessionDep,
    runtime: RuntimeDep,
    _: Admin,
    action: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[AuditEventPublic]:
    def work() -> PageOut[AuditEventPublic]:
        page = audit.list_events(session, limit, cursor, action)
        return PageOut(
            items=[AuditEventPublic.model_validate(r) for r in page.items],
            next_cursor=page.next_cursor,
        )

    return await run_read(runtime, work)
