"""Weekly trend: 7-day buckets counted back from the window's end."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from code_engine.dora.events import CommitEvent, DeploymentEvent, DeploymentStatus, IncidentEvent
from code_engine.dora.trend import week_buckets, weekly_trend

UTC = timezone.utc
T0 = datetime(2024, 6, 3, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def deploy(
    ident: str, days: float, status: str = "succeeded", commits: tuple[str, ...] = ()
) -> DeploymentEvent:
    return DeploymentEvent(
        ident, "api", "prod", DeploymentStatus(status), at(days), at(days), commits
    )


def test_buckets_count_back_from_the_end() -> None:
    assert week_buckets(T0, at(14)) == [(T0, at(7)), (at(7), at(14))]
    assert week_buckets(T0, at(10)) == [(T0, at(3)), (at(3), at(10))]
    with pytest.raises(ValueError, match="end: must be after start"):
        week_buckets(at(1), T0)


def test_weekly_points() -> None:
    sha = "a" * 40
    commits = [CommitEvent(sha, "api", at(0), at(0))]
    deploys = [
        deploy("a", 1, commits=(sha,)),
        deploy("b", 2, "failed"),
        deploy("c", 2.5),
        deploy("d", 9),
    ]
    # an hour after d: d is a failed change, recovered half an hour later
    opened = at(9) + timedelta(hours=1)
    incidents = [IncidentEvent("i", "api", "prod", opened, opened + timedelta(minutes=30))]
    first, second = weekly_trend(deploys, incidents, commits, service="api", start=T0, end=at(14))
    assert (first.start, first.end) == (T0, at(7))
    assert first.deployments == 2
    assert first.deployments_per_week == 2
    assert first.deployment_days == 2
    assert first.lead_time_median_hours == 24
    assert first.lead_time_p90_hours == 24
    assert first.change_failure_rate_percent == pytest.approx(100 / 3)
    assert first.time_to_restore_median_hours == 12
    assert second.deployments == 1
    assert second.lead_time_median_hours is None
    assert second.change_failure_rate_percent == 100
    assert second.time_to_restore_median_hours == 0.5


def test_partial_oldest_bucket_reports_a_weekly_rate() -> None:
    points = weekly_trend([deploy("a", 1)], [], [], service="api", start=T0, end=at(10))
    assert points[0].deployments == 1
    assert points[0].deployments_per_week == pytest.approx(7 / 3)
