"""Events are UTC at the edge: offsets converted, naive timestamps refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from code_engine.dora.events import (
    CommitEvent,
    DeploymentEvent,
    DeploymentStatus,
    IncidentEvent,
    PayloadError,
    final_status,
    normalize_environment,
    parse_timestamp,
    to_utc,
)
from code_engine.errors import UserError

UTC = timezone.utc


def test_offsets_are_converted_to_utc() -> None:
    berlin = datetime(2024, 6, 3, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    commit = CommitEvent(sha="a" * 40, service="api", authored_at=berlin, committed_at=berlin)
    assert commit.authored_at == datetime(2024, 6, 3, 10, 0, tzinfo=UTC)
    assert commit.authored_at.tzinfo is UTC


def test_naive_timestamps_are_refused_with_the_field_name() -> None:
    with pytest.raises(PayloadError, match="opened_at: timestamp .* has no UTC offset"):
        IncidentEvent(
            external_id="i", service="api", environment="prod", opened_at=datetime(2024, 6, 3)
        )


def test_payload_error_is_a_user_error_with_one_line_per_problem() -> None:
    error = PayloadError(["a: missing", "b: wrong"])
    assert isinstance(error, ValueError)
    assert isinstance(error, UserError)
    assert str(error) == "a: missing\nb: wrong"
    assert error.prefixed("events.2").problems == ("events.2.a: missing", "events.2.b: wrong")


def test_deployment_coerces_status_and_commits() -> None:
    now = datetime(2024, 6, 3, tzinfo=UTC)
    deployment = DeploymentEvent(
        external_id="d",
        service="api",
        environment="prod",
        status="rolled_back",  # type: ignore[arg-type]
        started_at=now,
        finished_at=now,
        commits=["a" * 40],  # type: ignore[arg-type]
    )
    assert deployment.status is DeploymentStatus.ROLLED_BACK
    assert deployment.commits == ("a" * 40,)


def test_deployment_cannot_finish_before_it_starts() -> None:
    now = datetime(2024, 6, 3, tzinfo=UTC)
    with pytest.raises(PayloadError, match="finished_at: is before started_at"):
        DeploymentEvent("d", "api", "prod", DeploymentStatus.FAILED, now, now - timedelta(1))


def test_incident_cannot_resolve_before_it_opens() -> None:
    now = datetime(2024, 6, 3, tzinfo=UTC)
    with pytest.raises(PayloadError, match="resolved_at: is before opened_at"):
        IncidentEvent("i", "api", "prod", now, now - timedelta(seconds=1))


def test_change_started_at_is_the_earliest_known_time() -> None:
    now = datetime(2024, 6, 3, tzinfo=UTC)
    plain = CommitEvent("a" * 40, "api", now, now)
    merge = CommitEvent("b" * 40, "api", now, now, first_commit_at=now - timedelta(days=2))
    odd = CommitEvent("c" * 40, "api", now, now, first_commit_at=now + timedelta(days=2))
    assert plain.change_started_at == now
    assert merge.change_started_at == now - timedelta(days=2)
    assert odd.change_started_at == now


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-06-11T13:04:39Z", datetime(2024, 6, 11, 13, 4, 39, tzinfo=UTC)),
        (
            "2024-06-11T15:04:39.812734851+02:00",
            datetime(2024, 6, 11, 13, 4, 39, 812734, tzinfo=UTC),
        ),
        ("2024-06-11 08:04:39.5-05:00", datetime(2024, 6, 11, 13, 4, 39, 500000, tzinfo=UTC)),
        ("2024-06-11T13:04:39+0000", datetime(2024, 6, 11, 13, 4, 39, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_accepts_rfc3339(raw: str, expected: datetime) -> None:
    assert parse_timestamp(raw, "at") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2024-06-11T13:04:39", "at: timestamp '2024-06-11T13:04:39' has no UTC offset (add 'Z')"),
        ("yesterday", "at: 'yesterday' is not an RFC 3339 timestamp (input is too short)"),
        (
            "2024-13-11T13:04:39Z",
            "at: '2024-13-11T13:04:39Z' is not an RFC 3339 timestamp"
            " (month value is outside expected range of 1-12)",
        ),
        ("1718111079", "at: '1718111079' is not an RFC 3339 timestamp"),
        (1718111079, "at: expected an RFC 3339 timestamp, got 1718111079"),
    ],
)
def test_parse_timestamp_reports_the_field(raw: object, message: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_timestamp(raw, "at")
    assert caught.value.problems == (message,)


def test_parse_timestamp_takes_aware_datetimes() -> None:
    aware = datetime(2024, 6, 11, 8, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_timestamp(aware, "at") == datetime(2024, 6, 11, 13, 0, tzinfo=UTC)


def test_to_utc_refuses_naive() -> None:
    with pytest.raises(PayloadError, match="start: timestamp"):
        to_utc(datetime(2024, 6, 3), "start")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Production", "prod"), (" prd ", "prod"), ("stage", "staging"), ("qa", "qa")],
)
def test_normalize_environment(name: str, expected: str) -> None:
    assert normalize_environment(name) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("succeeded", DeploymentStatus.SUCCEEDED),
        ("failed", DeploymentStatus.FAILED),
        ("rolled_back", DeploymentStatus.ROLLED_BACK),
        ("pending", None),
        ("progressing", None),
        ("paused", None),
    ],
)
def test_final_status_of_code_deployments(status: str, expected: DeploymentStatus | None) -> None:
    assert final_status(status) is expected
