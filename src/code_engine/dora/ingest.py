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
from code_engine.dora.events import CommitEvent, DeploymentEvent, Event, IncidentEvent, PayloadError
from code_engine.dora.upsert import (
    conventional_type,
    upsert_commit,
    upsert_deployment,
    upsert_incident,
)

__all__ = ["IngestResult", "conventional_type", "ingest"]

Authorize = Callable[[str], None]
KINDS = ("commit", "deployment", "incident")


@dataclass
class IngestResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    ignored: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "created": {k: self.created[k] for k in KINDS},
            "updated": {k: self.updated[k] + self.unchanged[k] for k in KINDS},
        }


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
    accepted = [event for index, event in enumerate(events) if index not in problems]
    for event in accepted:
        if isinstance(event, DeploymentEvent):
            authorize_deploy(event.environment)
        if authorize_event is not None:
            authorize_event(event)
    result = IngestResult(ignored=[problems[index] for index in sorted(problems)])
    for event in accepted:
        outcome = _apply(session, event, known[event.service], by)
        counter = {True: result.created, False: result.updated, None: result.unchanged}[outcome]
        counter[_kind(event)] += 1
    return result


def _apply(session: Session, event: Event, service: _Service, by: str) -> bool | None:
    if isinstance(event, CommitEvent):
        return upsert_commit(session, event, service.id)
    if isinstance(event, DeploymentEvent):
        return upsert_deployment(
            session,
            event,
            service_id=service.id,
            environment_id=service.environments[event.environment],
            by=by,
            repo=service.repo,
        )
    assert isinstance(event, IncidentEvent)  # noqa: S101 - narrowing for the type checker
    return upsert_incident(
        session,
        event,
        service_id=service.id,
        environment_id=service.environments.get(event.environment),
    )
