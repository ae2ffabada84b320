"""Store a batch of DORA events in one transaction: all of it, or nothing.

Commits, deployments and incidents are idempotent by their external id (a commit's is its
sha) and keep the version `dedupe.latest` keeps, so a batch may be sent again, or out of
order, without counting anything twice or letting an older version win.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from code_engine.catalog.store import find_service, list_environments
from code_engine.dora import fill
from code_engine.dora.changes import record_change
from code_engine.dora.claim import Outcome, lock_service
from code_engine.dora.dedupe import event_key
from code_engine.dora.deployments import DeploymentRecord
from code_engine.dora.events import CommitEvent, DeploymentEvent, Event, IncidentEvent, PayloadError
from code_engine.dora.incidents import IncidentRecord, record_incident
from code_engine.dora.recording import record_deployment

__all__ = ["IngestResult", "ingest"]

Authorize = Callable[[str], None]
KINDS = ("commit", "deployment", "incident")


@dataclass
class IngestResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    ignored: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, dict[str, int]]:
        """Per kind: records created, records replaced by a newer version, records kept
        as they were (a repeat, or an older version than the stored one)."""
        return {
            "created": {k: self.created[k] for k in KINDS},
            "updated": {k: self.updated[k] for k in KINDS},
            "unchanged": {k: self.unchanged[k] for k in KINDS},
        }

    def count(self, kind: str, outcome: Outcome) -> None:
        {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}[outcome][
            kind
        ] += 1


@dataclass(frozen=True)
class _Service:
    id: int
    environments: dict[str, int]
    repo: Path | None


def _kind(event: Event) -> str:
    if isinstance(event, CommitEvent):
        return "commit"
    return "deployment" if isinstance(event, DeploymentEvent) else "incident"


def _resolve(
    session: Session, events: Sequence[Event]
) -> tuple[dict[str, _Service], dict[int, str]]:
    """Service name -> its id, environments and repository; problems by event index."""
    known: dict[str, _Service] = {}
    missing: set[str] = set()
    problems: dict[int, str] = {}
    for index, event in enumerate(events):
        if event.service not in known and event.service not in missing:
            row = find_service(session, event.service)
            if row is None:
                missing.add(event.service)
            else:
                envs = {e.name: e.id for e in list_environments(session, row.id)}
                known[event.service] = _Service(row.id, envs, fill.repository(row.repo))
        if event.service in missing:
            problems[index] = f"events.{index}.service: no service named {event.service!r}"
            continue
        environment = getattr(event, "environment", None)
        if environment is not None and environment not in known[event.service].environments:
            problems[index] = (
                f"events.{index}.environment: service {event.service!r} has no environment "
                f"{environment!r}"
            )
    return known, problems


def ingest(
    session: Session,
    events: Sequence[Event],
    *,
    by: str,
    authorize_deploy: Authorize,
    skip_unknown: bool = False,
    authorize_event: Callable[[Event], None] | None = None,
) -> IngestResult:
    """Write `events`; raises PayloadError (naming each bad event) before writing anything.

    With `skip_unknown` (webhooks), events of services or environments CODE does not know
    are left out and listed in `ignored` instead of failing the batch.
    """
    known, problems = _resolve(session, events)
    if problems and not skip_unknown:
        raise PayloadError(problems[index] for index in sorted(problems))
    # in one order (commits, deployments, incidents, each by id): two batches writing the
    # same records lock them in the same order, so they queue instead of deadlocking
    accepted = sorted(
        (event for index, event in enumerate(events) if index not in problems), key=event_key
    )
    for event in accepted:
        if isinstance(event, DeploymentEvent):
            authorize_deploy(event.environment)
        if authorize_event is not None:
            authorize_event(event)
    result = IngestResult(ignored=[problems[index] for index in sorted(problems)])
    for service_id in sorted({known[event.service].id for event in accepted}):
        lock_service(session, service_id)  # in one order: two batches never wait in a cycle
    for event in accepted:
        result.count(_kind(event), _apply(session, event, known[event.service], by))
    return result


def _apply(session: Session, event: Event, service: _Service, by: str) -> Outcome:
    if isinstance(event, CommitEvent):
        return record_change(session, service.id, event)[1]
    if isinstance(event, DeploymentEvent):
        record = DeploymentRecord(
            service_id=service.id,
            environment_id=service.environments[event.environment],
            version=event.revision or event.external_id,
            status=event.status.value,
            created_at=event.started_at,
            external_id=event.external_id,
            trigger=event.trigger,
            source=event.source,
            created_by=by,
            started_at=event.started_at,
            finished_at=event.finished_at,
            commits=event.commits,
            revision=event.revision,
        )
        return record_deployment(session, record, repo=service.repo)[1]
    assert isinstance(event, IncidentEvent)  # noqa: S101 - narrows the type  # nosec B101
    incident = IncidentRecord(
        service_id=service.id,
        title=event.title,
        opened_at=event.opened_at,
        severity=event.severity,
        environment_id=service.environments.get(event.environment),
        deployment_external_id=event.deployment_id,
        external_id=event.external_id,
        source=event.source,
        resolved_at=event.resolved_at,
    )
    return record_incident(session, incident)[1]
