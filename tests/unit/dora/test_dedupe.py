"""Idempotent ingestion: the documented latest-wins rule, independent of arrival order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from code_engine.dora.dedupe import dedupe, event_key, latest
from code_engine.dora.events import CommitEvent, DeploymentEvent, DeploymentStatus, IncidentEvent

T0 = datetime(2024, 6, 3, tzinfo=timezone.utc)


def deployment(status: str, finished_minutes: int) -> DeploymentEvent:
    return DeploymentEvent(
        "github:1",
        "api",
        "prod",
        DeploymentStatus(status),
        T0,
        T0 + timedelta(minutes=finished_minutes),
    )


def test_later_finish_wins_then_more_severe_status() -> None:
    success = deployment("succeeded", 5)
    failure_later = deployment("failed", 9)
    rollback_same_time = deployment("rolled_back", 5)
    assert latest(success, failure_later) is failure_later
    assert latest(failure_later, success) is failure_later
    assert latest(success, rollback_same_time) is rollback_same_time
    assert latest(rollback_same_time, success) is rollback_same_time


def test_resolved_incident_beats_open_one() -> None:
    opened = IncidentEvent("am:1", "api", "prod", T0)
    resolved = IncidentEvent("am:1", "api", "prod", T0, T0 + timedelta(minutes=30))
    assert dedupe([resolved, opened]) == [resolved]
    assert dedupe([opened, resolved]) == [resolved]


def test_commit_with_first_commit_time_wins() -> None:
    bare = CommitEvent("a" * 40, "api", T0, T0)
    merged = CommitEvent("a" * 40, "api", T0, T0, first_commit_at=T0 - timedelta(days=1))
    assert dedupe([merged, bare]) == [merged]
    assert dedupe([bare, merged]) == [merged]


def test_keys_separate_kinds_and_services() -> None:
    commit_api = CommitEvent("a" * 40, "api", T0, T0)
    commit_web = CommitEvent("a" * 40, "web", T0, T0)
    incident = IncidentEvent("a" * 40, "api", "prod", T0)
    assert len({event_key(e) for e in (commit_api, commit_web, incident)}) == 3
    assert len(dedupe([commit_api, commit_web, incident, commit_api])) == 3


def test_result_is_ordered_by_identity() -> None:
    first = IncidentEvent("b", "api", "prod", T0)
    second = IncidentEvent("a", "api", "prod", T0)
    assert dedupe([first, second]) == [second, first]
