"""Idempotent ingestion: one event per identity, whatever the arrival order.

Webhooks are retried and arrive out of order, so several versions of the same event meet.
The winner is chosen by a total order on the event's content, never by arrival:

- deployments (key `external_id`): the later `finished_at` wins; on a tie the more severe
  status wins (`rolled_back` > `failed` > `succeeded`), so a rollback recorded after a
  success replaces it;
- incidents (key `external_id`): a resolved version beats an open one, then the later
  `resolved_at` wins;
- commits (key `service` + `sha`): the version carrying `first_commit_at` wins, then the
  later `committed_at` (an amended import).

Remaining ties are broken by the other fields, so the result never depends on the order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TypeVar

from code_engine.dora.events import (
    DeploymentEvent,
    DeploymentStatus,
    Event,
    IncidentEvent,
)

E = TypeVar("E", bound=Event)

_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
STATUS_SEVERITY = {
    DeploymentStatus.SUCCEEDED: 0,
    DeploymentStatus.FAILED: 1,
    DeploymentStatus.ROLLED_BACK: 2,
}

_Rank = tuple[object, ...]


def event_key(event: Event) -> tuple[str, str]:
    """The identity under which versions of an event replace each other."""
    if isinstance(event, DeploymentEvent):
        return ("deployment", event.external_id)
    if isinstance(event, IncidentEvent):
        return ("incident", event.external_id)
    return ("commit", f"{event.service}\0{event.sha}")


def _rank(event: Event) -> _Rank:
    if isinstance(event, DeploymentEvent):
        return (
            event.finished_at,
            STATUS_SEVERITY[event.status],
            event.started_at,
            event.commits,
            event.revision or "",
            event.service,
            event.environment,
            event.trigger,
            event.source,
        )
    if isinstance(event, IncidentEvent):
        return (
            event.resolved_at is not None,
            event.resolved_at or _EPOCH,
            event.opened_at,
            event.service,
            event.environment,
            event.severity,
            event.deployment_id or "",
            event.source,
            event.title,
        )
    return (
        event.first_commit_at is not None,
        event.committed_at,
        event.authored_at,
        event.first_commit_at or _EPOCH,
        event.message,
    )


def latest(first: E, second: E) -> E:
    """Of two versions of the same event, the one the documented rule keeps."""
    return second if _rank(second) > _rank(first) else first


def dedupe(events: Iterable[E]) -> list[E]:
    """One event per identity (see module docstring), ordered by identity."""
    kept: dict[tuple[str, str], E] = {}
    for event in events:
        key = event_key(event)
        current = kept.get(key)
        kept[key] = event if current is None else latest(current, event)
    return [kept[key] for key in sorted(kept)]
