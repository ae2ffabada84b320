"""Write one event, keeping whichever version `dedupe.latest` keeps.

The stored row is turned back into the event it was received as, compared with the
incoming one, and replaced only when the incoming one wins: so the database ends the
same whatever order the versions arrive in. Fields are stored as received (within the
columns' lengths), never defaulted, so that the comparison sees what was sent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from code_engine.deploy.store import (
    DeploymentRecord,
    commits_of,
    record_change_start,
    record_deployment,
)
from code_engine.dora import fill
from code_engine.dora.dedupe import latest
from code_engine.dora.events import CommitEvent, DeploymentEvent, IncidentEvent
from code_engine.dora.tables import IncidentReferenceRow
from code_engine.store.tables import (
    ChangeRow,
    DeploymentRow,
    EnvironmentRow,
    IncidentRow,
    ServiceRow,
)


def conventional_type(message: str) -> str | None:
    """`feat` for `feat(api)!: x`; None when the subject is not a Conventional Commit."""
    subject = message.split("\n", 1)[0]
    head, sep, rest = subject.partition(":")
    if not sep or not rest.strip():
        return None
    kind = head.split("(", 1)[0].rstrip("!")
    return kind if kind.isalpha() and kind.islower() else None


def upsert_commit(session: Session, event: CommitEvent, service_id: int) -> bool | None:
    """True when created, False when replaced, None when the stored version wins."""
    row = session.scalars(
        select(ChangeRow).where(ChangeRow.service_id == service_id, ChangeRow.sha == event.sha)
    ).first()
    if row is not None:
        stored = CommitEvent(
            sha=row.sha,
            service=event.service,
            authored_at=row.authored_at,
            committed_at=row.committed_at,
            message=row.message,
            first_commit_at=row.first_commit_at,
        )
        if latest(stored, event) is stored:
            return None
    created = row is None
    if row is None:
        row = ChangeRow(service_id=service_id, sha=event.sha)
        session.add(row)
    row.message = event.message
    row.conventional_type = conventional_type(event.message)
    row.authored_at = event.authored_at
    row.committed_at = event.committed_at
    row.first_commit_at = event.first_commit_at
    session.flush()
    # Deployments stored before this version of the commit copy its change start.
    record_change_start(session, service_id, event.sha)
    return created


def normalized_deployment(event: DeploymentEvent) -> DeploymentEvent:
    """The event as the columns can hold it (what a stored version reads back as)."""
    return replace(event, trigger=event.trigger[:64], source=event.source[:64])


def _names(session: Session, service_id: int, environment_id: int | None) -> tuple[str, str]:
    service = session.get(ServiceRow, service_id)
    environment = session.get(EnvironmentRow, environment_id) if environment_id else None
    return (service.name if service else "", environment.name if environment else "")


def stored_deployment(session: Session, row: DeploymentRow) -> DeploymentEvent:
    """A stored deployment as the event it was received as."""
    service, environment = _names(session, row.service_id, row.environment_id)
    received = row.state.get(fill.RECEIVED) if isinstance(row.state, dict) else None
    received = received if isinstance(received, dict) else {}
    commits = received.get("commits")
    return DeploymentEvent(
        external_id=row.external_id or str(row.id),
        service=service,
        environment=environment,
        status=row.status,  # type: ignore[arg-type]  # converted in __post_init__
        started_at=row.started_at or row.created_at,
        finished_at=row.finished_at or row.created_at,
        commits=tuple(commits) if isinstance(commits, list) else tuple(commits_of(session, row.id)),
        trigger=row.trigger,
        source=row.source,
        revision=received.get("revision"),
    )


def upsert_deployment(
    session: Session,
    event: DeploymentEvent,
    *,
    service_id: int,
    environment_id: int,
    by: str,
    repo: Path | None,
) -> bool | None:
    """True when created, False when replaced, None when the stored version wins."""
    event = normalized_deployment(event)
    row = session.scalars(
        select(DeploymentRow).where(DeploymentRow.external_id == event.external_id)
    ).first()
    if row is not None:
        stored = stored_deployment(session, row)
        if latest(stored, event) is stored:
            return None
    fillable = repo is not None and fill.fillable(event.commits, event.revision)
    row, created = record_deployment(
        session,
        DeploymentRecord(
            service_id=service_id,
            environment_id=environment_id,
            version=(event.revision or event.external_id)[:128],
            status=event.status.value,
            created_at=event.started_at,
            external_id=event.external_id,
            trigger=event.trigger,
            source=event.source,
            created_by=by[:200],
            started_at=event.started_at,
            finished_at=event.finished_at,
            state={
                fill.RECEIVED: {
                    "commits": list(event.commits),
                    "revision": event.revision,
                    "fillable": fillable,
                }
            },
        ),
    )
    fill.replace_commits(session, row.id, list(event.commits))
    _attach_incidents(session, row)
    if repo is not None:
        fill.refill(session, repo, row)
    return created


def _attach_incidents(session: Session, row: DeploymentRow) -> None:
    """Incidents that named this deployment before it arrived now point at it."""
    named = select(IncidentReferenceRow.incident_id).where(
        IncidentReferenceRow.deployment_external_id == row.external_id
    )
    session.execute(
        update(IncidentRow)
        .where(IncidentRow.id.in_(named), IncidentRow.deployment_id.is_(None))
        .values(deployment_id=row.id)
        .execution_options(synchronize_session=False)
    )


def normalized_incident(event: IncidentEvent) -> IncidentEvent:
    return replace(
        event, severity=event.severity[:32], source=event.source[:64], title=event.title[:500]
    )


def upsert_incident(
    session: Session,
    event: IncidentEvent,
    *,
    service_id: int,
    environment_id: int | None,
) -> bool | None:
    """True when created, False when replaced, None when the stored version wins."""
    event = normalized_incident(event)
    row = session.scalars(
        select(IncidentRow).where(IncidentRow.external_id == event.external_id)
    ).first()
    reference = None
    if row is not None:
        reference = session.get(IncidentReferenceRow, row.id)
        service, environment = _names(session, row.service_id, row.environment_id)
        stored = IncidentEvent(
            external_id=event.external_id,
            service=service,
            environment=environment,
            opened_at=row.opened_at,
            resolved_at=row.resolved_at,
            severity=row.severity,
            deployment_id=reference.deployment_external_id if reference else None,
            source=row.source,
            title=row.title,
        )
        if latest(stored, event) is stored:
            return None
    created = row is None
    if row is None:
        row = IncidentRow(external_id=event.external_id, opened_at=event.opened_at)
        session.add(row)
    row.service_id = service_id
    row.environment_id = environment_id
    row.title = event.title
    row.severity = event.severity
    row.source = event.source
    row.opened_at = event.opened_at
    row.resolved_at = event.resolved_at
    row.deployment_id = None
    if event.deployment_id:
        row.deployment_id = session.scalars(
            select(DeploymentRow.id).where(DeploymentRow.external_id == event.deployment_id)
        ).first()
    session.flush()
    if reference is not None and not event.deployment_id:
        session.delete(reference)
    elif event.deployment_id:
        reference = reference or IncidentReferenceRow(incident_id=row.id)
        reference.deployment_external_id = event.deployment_id
        session.add(reference)
    session.flush()
    return created
