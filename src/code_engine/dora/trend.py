"""Weekly trend of the four keys: the same definitions over consecutive 7-day buckets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from code_engine.dora.events import CommitEvent, DeploymentEvent, IncidentEvent, to_utc
from code_engine.dora.metrics import summarize
from code_engine.dora.timeline import DEFAULT_INCIDENT_LINK_WINDOW, Timeline, prepare

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class TrendPoint:
    """The four keys over one bucket `[start, end)`; None where the bucket has no sample."""

    start: datetime
    end: datetime
    deployments: int
    deployments_per_week: float
    deployment_days: int
    lead_time_median_hours: float | None
    lead_time_p90_hours: float | None
    change_failure_rate_percent: float | None
    time_to_restore_median_hours: float | None


def week_buckets(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """7-day buckets counted back from `end`, oldest first; the oldest may be shorter."""
    start, end = to_utc(start, "start"), to_utc(end, "end")
    if end <= start:
        raise ValueError("end: must be after start")
    buckets: list[tuple[datetime, datetime]] = []
    upper = end
    while upper > start:
        lower = max(start, upper - WEEK)
        buckets.append((lower, upper))
        upper = lower
    buckets.reverse()
    return buckets


def trend_of(timeline: Timeline, *, start: datetime, end: datetime) -> list[TrendPoint]:
    """The weekly trend of a prepared timeline."""
    points: list[TrendPoint] = []
    for lower, upper in week_buckets(start, end):
        keys = summarize(timeline, start=lower, end=upper)
        frequency = keys.deployment_frequency
        lead = keys.lead_time.details
        points.append(
            TrendPoint(
                start=lower,
                end=upper,
                deployments=frequency.sample_size,
                deployments_per_week=frequency.value or 0.0,
                deployment_days=int(frequency.details["deployment_days"] or 0),
                lead_time_median_hours=lead["median_hours"],
                lead_time_p90_hours=lead["p90_hours"],
                change_failure_rate_percent=keys.change_failure_rate.value,
                time_to_restore_median_hours=keys.time_to_restore.value,
            )
        )
    return points


def weekly_trend(
    deployments: Iterable[DeploymentEvent],
    incidents: Iterable[IncidentEvent],
    commits: Iterable[CommitEvent],
    *,
    service: str,
    environment: str = "prod",
    start: datetime,
    end: datetime,
    incident_link_window: timedelta = DEFAULT_INCIDENT_LINK_WINDOW,
) -> list[TrendPoint]:
    """The four keys per 7-day bucket of `[start, end)` (see `week_buckets`)."""
    timeline = prepare(
        deployments,
        incidents,
        commits,
        service=service,
        environment=environment,
        incident_link_window=incident_link_window,
    )
    return trend_of(timeline, start=start, end=end)
