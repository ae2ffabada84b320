"""Store a batch of DORA events in one transaction: all of it, or nothing.

Commits, deployments and incidents are idempotent by their external id (a commit's is its
sha), so a batch may be sent again, or out of order, without counting anything twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.catalog.store import find_service, list_environments
from code_engine.deploy.store import DeploymentRecord, record_deployment
from code_engine.dora.events import CommitEvent, DeploymentEvent, Event, IncidentEvent, PayloadError
from code_engine.dora.store import ChangeRecord, IncidentRecord, upsert_change, upsert_incident
from code_engine.store.tables import DeploymentRow

Authorize = Callable[[str], None]


@dataclass
class IngestResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, dict[str, int]]:
        kinds = ("commit", "deployment", "incident")
        return {
            "created": {k: self.created[k] for k in kinds},
            "updated": {k: self.updated[k] for k in kinds},
        }


def _kind(event: Event) -> str:
    if isinstance(event, CommitEvent):
        return "commit"
    return "deployment" if isinstance(event, DeploymentEvent) else "incident"


def _resolve(session: Session, events: Sequence[Event]) -> dict[str, tuple[int, dict[str, int]]]:
    """Service name -> (id, environment ids by name); every problem reported at once."""
    known: dict[str, tuple[int, dict[str, int]]] = {}
    problems = []
    for index, event in enumerate(events):
        if event.service not in known:
            row = find_service(session, event.service)
            if row is None:
                problems.append(f"events.{index}.service: no service named {event.service!r}")
                continue
            envs = {e.name: e.id for e in list_environments(session, row.id)}
            known[event.service] = (row.id, envs)
        environment = getattr(event, "environment", None)
        if environment is not None and environment not in known[event.service][1]:
            problems.append(
                f"events.{index}.environment: service {event.service!r} has no environment "
                f"{environment!r}"
            )
    if problems:
        raise PayloadError(problems)
    return known


def ingest(
    session: Session, events: Sequence[Event], *, by: str, authorize_deploy: Authorize
) -> IngestResult:
    """Write `events`; raises PayloadError (naming each bad event) before writing anything."""
    known = _resolve(session, events)
    for event in events:
        if isinstance(event, DeploymentEvent):
            authorize_deploy(event.environment)
    result = IngestResult()
    for event in events:
        service_id, envs = known[event.service]
        created = _apply(session, event, service_id, envs, by)
        (result.created if created else result.updated)[_kind(event)] += 1
    return result


def _apply(session: Session, event: Event, service_id: int, envs: dict[str, int], by: str) -> bool:
    if isinstance(event, CommitEvent):
        return upsert_change(
            session,
            ChangeRecord(
                service_id=service_id,
                sha=event.sha,
                message=event.message,
                authored_at=event.authored_at,
                committed_at=event.committed_at,
                first_commit_at=event.first_commit_at,
                conventional_type=conventional_type(event.message),
            ),
        )[1]
    if isinstance(event, DeploymentEvent):
        return record_deployment(
            session,
            DeploymentRecord(
                service_id=service_id,
                environment_id=envs[event.environment],
                version=event.revision or event.external_id,
                status=event.status.value,
                created_at=event.started_at,
                external_id=event.external_id,
                trigger=event.trigger or "external",
                source=event.source or "events",
                created_by=by,
                started_at=event.started_at,
                finished_at=event.finished_at,
                commits=event.commits,
            ),
        )[1]
    return _apply_incident(session, event, service_id, envs)


def _apply_incident(
    session: Session, event: IncidentEvent, service_id: int, envs: dict[str, int]
) -> bool:
    deployment_id = None
    if event.deployment_id:
        deployment_id = session.scalars(
            select(DeploymentRow.id).where(DeploymentRow.external_id == event.deployment_id)
        ).first()
    return upsert_incident(
        session,
        IncidentRecord(
            service_id=service_id,
            title=event.title or event.external_id,
            opened_at=event.opened_at,
            severity=event.severity or "major",
            environment_id=envs.get(event.environment),
            deployment_id=deployment_id,
            external_id=event.external_id,
            source=event.source or "events",
            resolved_at=event.resolved_at,
        ),
    )[1]


def conventional_type(message: str) -> str | None:
    """`feat` for `feat(api)!: x`; None when the subject is not a Conventional Commit."""
    subject = message.split("\n", 1)[0]
    head, sep, rest = subject.partition(":")
    if not sep or not rest.strip():
        return None
    kind = head.split("(", 1)[0].rstrip("!")
    return kind if kind.isalpha() and kind.islower() else None
