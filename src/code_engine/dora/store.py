"""Queries for changes (commits) and incidents."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.errors import ConflictError, NotFoundError
from code_engine.store.pagination import Page, paginate
from code_engine.store.tables import ChangeRow, EnvironmentRow, IncidentRow


@dataclass(frozen=True)
class ChangeRecord:
    service_id: int
    sha: str
    message: str
    authored_at: datetime
    committed_at: datetime
    first_commit_at: datetime | None = None
    conventional_type: str | None = None


def upsert_change(session: Session, record: ChangeRecord) -> tuple[ChangeRow, bool]:
    """Insert a commit once per service; a repeat updates it in place."""
    row = session.scalars(
        select(ChangeRow).where(
            ChangeRow.service_id == record.service_id, ChangeRow.sha == record.sha
        )
    ).first()
    created = row is None
    if row is None:
        row = ChangeRow(
            service_id=record.service_id,
            sha=record.sha,
            authored_at=record.authored_at,
            committed_at=record.committed_at,
        )
        session.add(row)
    row.message = record.message
    row.authored_at = record.authored_at
    row.committed_at = record.committed_at
    row.first_commit_at = record.first_commit_at
    row.conventional_type = record.conventional_type
    session.flush()
    return row, created


def list_changes(
    session: Session, service_id: int | None, limit: int, cursor: str | None
) -> Page[ChangeRow]:
    query = select(ChangeRow)
    if service_id is not None:
        query = query.where(ChangeRow.service_id == service_id)
    return paginate(session, query, ChangeRow.id, limit, cursor)


@dataclass(frozen=True)
class IncidentRecord:
    service_id: int
    title: str
    opened_at: datetime
    severity: str = "major"
    environment_id: int | None = None
    deployment_id: int | None = None
    external_id: str | None = None
    source: str = "api"
    resolved_at: datetime | None = None


def upsert_incident(session: Session, record: IncidentRecord) -> tuple[IncidentRow, bool]:
    """Open an incident, or update the one with the same external id."""
    row = None
    if record.external_id:
        row = session.scalars(
            select(IncidentRow).where(IncidentRow.external_id == record.external_id)
        ).first()
    created = row is None
    if row is None:
        row = IncidentRow(
            external_id=record.external_id,
            service_id=record.service_id,
            title=record.title,
            opened_at=record.opened_at,
        )
        session.add(row)
    for name in (
        "service_id",
        "title",
        "opened_at",
        "severity",
        "environment_id",
        "deployment_id",
        "source",
    ):
        setattr(row, name, getattr(record, name))
    if record.resolved_at is not None:
        row.resolved_at = record.resolved_at
    session.flush()
    return row, created


def get_incident(session: Session, incident_id: int) -> IncidentRow:
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise NotFoundError(f"no incident {incident_id}")
    return row


def resolve_incident(session: Session, incident_id: int, at: datetime) -> IncidentRow:
    row = get_incident(session, incident_id)
    if row.resolved_at is not None:
        raise ConflictError(f"incident {incident_id} is already resolved")
    if at < row.opened_at:
        raise ConflictError("an incident cannot be resolved before it was opened")
    row.resolved_at = at
    return row


def list_incidents(
    session: Session,
    limit: int,
    cursor: str | None,
    *,
    service_id: int | None = None,
    open_only: bool = False,
    environments: Collection[str] | None = None,
) -> Page[IncidentRow]:
    """Incidents newest first; `environments` limits them to environments of those names
    (None: all, including incidents of no environment)."""
    query = select(IncidentRow)
    if environments is not None:
        names = select(EnvironmentRow.id).where(EnvironmentRow.name.in_(sorted(environments)))
        query = query.where(IncidentRow.environment_id.in_(names))
    if service_id is not None:
        query = query.where(IncidentRow.service_id == service_id)
    if open_only:
        query = query.where(IncidentRow.resolved_at.is_(None))
    return paginate(session, query, IncidentRow.id, limit, cursor)
