"""The audit trail: every action a principal takes, appended, never updated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.store.pagination import Page, paginate
from code_engine.store.tables import AuditEventRow


def record(
    session: Session,
    *,
    at: datetime,
    principal: str,
    action: str,
    resource: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEventRow:
    row = AuditEventRow(
        at=at,
        principal=principal,
        action=action,
        resource=resource,
        outcome=outcome,
        detail=detail or {},
    )
    session.add(row)
    return row


def list_events(
    session: Session, limit: int, cursor: str | None, action: str | None = None
) -> Page[AuditEventRow]:
    query = select(AuditEventRow)
    if action:
        query = query.where(AuditEventRow.action == action)
    return paginate(session, query, AuditEventRow.id, limit, cursor)
