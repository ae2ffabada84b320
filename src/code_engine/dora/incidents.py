"""Incidents: their one writer and their queries.

The incidents route, the batch event route and the Alertmanager webhook all open and
update incidents through `record_incident`: an incident is deduplicated by its external
id, keeps the version `dedupe.latest` keeps (a resolved version beats an open one), and
points at the deployment it names, by CODE's id or by the id a tool reported (linked as
soon as that deployment arrives, whichever comes first).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.dora.claim import Outcome, claim, lock_service, names
from code_engine.dora.dedupe import latest
from code_engine.dora.deployments import find_external, get_deployment
from code_engine.dora.events import IncidentEvent
from code_engine.dora.tables import IncidentReferenceRow
from code_engine.errors import ConflictError, NotFoundError
from code_engine.store.pagination import Page, paginate
from code_engine.store.tables import EnvironmentRow, IncidentRow


@dataclass(frozen=True)
class IncidentRecord:
    """An incident to record; `deployment_id` is CODE's id, `deployment_external_id` a
    tool's id for a deployment that may not have arrived yet."""

    service_id: int
    title: str
    opened_at: datetime
    severity: str = "major"
    environment_id: int | None = None
    deployment_id: int | None = None
    deployment_external_id: str | None = None
    external_id: str | None = None
    source: str = "api"
    resolved_at: datetime | None = None


def _named(record: IncidentRecord) -> str | None:
    """The deployment an incident names, as one comparable string."""
    if record.deployment_external_id:
        return record.deployment_external_id
    return f"#{record.deployment_id}" if record.deployment_id is not None else None


def _event(session: Session, record: IncidentRecord) -> IncidentEvent:
    service, environment = names(session, record.service_id, record.environment_id)
    return IncidentEvent(
        external_id=record.external_id or "",
        service=service,
        environment=environment,
        opened_at=record.opened_at,
        resolved_at=record.resolved_at,
        severity=record.severity,
        deployment_id=_named(record),
        source=record.source,
        title=record.title,
    )


def _stored(session: Session, row: IncidentRow) -> IncidentRecord:
    reference = session.get(IncidentReferenceRow, row.id)
    return IncidentRecord(
        service_id=row.service_id,
        title=row.title,
        opened_at=row.opened_at,
        severity=row.severity,
        environment_id=row.environment_id,
        deployment_id=None if reference else row.deployment_id,
        deployment_external_id=reference.deployment_external_id if reference else None,
        external_id=row.external_id,
        source=row.source,
        resolved_at=row.resolved_at,
    )


def record_incident(session: Session, record: IncidentRecord) -> tuple[IncidentRow, Outcome]:
    """Open or update an incident (the only writer of `incidents`)."""
    lock_service(session, record.service_id)
    record = replace(
        record, title=record.title[:500], severity=record.severity[:32], source=record.source[:64]
    )
    if record.deployment_id is not None:
        get_deployment(session, record.deployment_id)  # a clear 404 rather than a broken link
    linked = record.deployment_id
    if record.deployment_external_id:
        found = find_external(session, record.deployment_external_id)
        linked = found.id if found is not None else None
    values: dict[str, Any] = {
        "service_id": record.service_id,
        "environment_id": record.environment_id,
        "deployment_id": linked,
        "title": record.title,
        "severity": record.severity,
        "source": record.source,
        "opened_at": record.opened_at,
        "resolved_at": record.resolved_at,
    }
    if record.external_id:
        row, created = claim(session, IncidentRow, {"external_id": record.external_id}, values)
        if not created:
            stored = _event(session, _stored(session, row))
            if latest(stored, _event(session, record)) is stored:
                return row, "unchanged"
            for name, value in values.items():
                setattr(row, name, value)
    else:
        row = IncidentRow(**values)
        session.add(row)
        created = True
    session.flush()
    _keep_reference(session, row.id, record.deployment_external_id)
    return row, "created" if created else "updated"


def _keep_reference(session: Session, incident_id: int, external_id: str | None) -> None:
    """Remember the tool's deployment id, so that the deployment finds it on arrival."""
    reference = session.get(IncidentReferenceRow, incident_id)
    if reference is not None and not external_id:
        session.delete(reference)
    elif external_id:
        reference = reference or IncidentReferenceRow(incident_id=incident_id)
        reference.deployment_external_id = external_id
        session.add(reference)
    session.flush()


def get_incident(session: Session, incident_id: int) -> IncidentRow:
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise NotFoundError(f"no incident {incident_id}")
    return row


def resolve_incident(session: Session, incident_id: int, at: datetime) -> IncidentRow:
    """Resolve an open incident at `at` (the route's `resolve`)."""
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
