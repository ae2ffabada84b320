"""The four keys of one service and environment over a window `[start, end)` (pure).

Definitions, units and the percentile method are written out in `docs/metrics.md`.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from code_engine.dora import bands
from code_engine.dora.bands import SEED_TARGETS, Band, Target, Targets
from code_engine.dora.events import CommitEvent, DeploymentEvent, IncidentEvent, to_utc
from code_engine.dora.timeline import DEFAULT_INCIDENT_LINK_WINDOW, Timeline, prepare

DAY = 86_400.0
HOUR = 3_600.0


@dataclass(frozen=True)
class Metric:
    """One key: its headline value in `unit`, band, target verdict and the figures behind it.

    `value`, `band` and `passed` are None when the window holds no sample to measure.
    """

    key: str
    value: float | None
    unit: str
    band: Band | None
    target: Target
    passed: bool | None
    sample_size: int
    details: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class FourKeys:
    """The four keys of `service` in `environment` over `[start, end)`."""

    service: str
    environment: str
    start: datetime
    end: datetime
    deployment_frequency: Metric
    lead_time: Metric
    change_failure_rate: Metric
    time_to_restore: Metric

    @property
    def metrics(self) -> tuple[Metric, Metric, Metric, Metric]:
        """The four metrics in the order DORA lists them."""
        return (
            self.deployment_frequency,
            self.lead_time,
            self.change_failure_rate,
            self.time_to_restore,
        )


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (Hyndman & Fan type 7, numpy's default).

    `ordered` must be sorted and non-empty; q = 0.5 is the usual median.
    """
    if not ordered:
        raise ValueError("percentile of no values")
    position = (len(ordered) - 1) * q
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def lower_median(values: Sequence[float]) -> float:
    """The median as DevLake takes it: the largest value whose percent rank is ≤ 0.5."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def _span(timestamps: Sequence[float], start: float, end: float) -> tuple[int, int]:
    return bisect_left(timestamps, start), bisect_left(timestamps, end)


def _verdict(target: Target, value: float | None) -> bool | None:
    return None if value is None else target.met_by(value)


def _bucket_counts(slots: set[int], size: int, buckets: int) -> list[float]:
    counts = [0.0] * buckets
    for slot in slots:
        if slot // size < buckets:
            counts[slot // size] += 1
    return counts


def _deployment_frequency(tl: Timeline, start: float, end: float, target: Target) -> Metric:
    days = (end - start) / DAY
    first, last = _span(tl.success_ts, start, end)
    count = last - first
    # Day slots are 24-hour periods counted back from the window's end, so 7/30/90-day
    # windows split into whole weeks and months (calendar days when `end` is midnight UTC).
    slots = {math.ceil((end - ts) / DAY) - 1 for ts in tl.success_ts[first:last]}
    weeks, months = int(days // 7), int(days // 30)
    weekly = _bucket_counts(slots, 7, weeks) if weeks else [len(slots) * 7 / days]
    monthly = lower_median(_bucket_counts(slots, 30, months)) if months else None
    per_week = count / days * 7
    days_per_week = lower_median(weekly)
    return Metric(
        key="deployment_frequency",
        value=per_week,
        unit="deployments/week",
        band=bands.deployment_frequency_band(days_per_week, monthly),
        target=target,
        passed=target.met_by(per_week),
        sample_size=count,
        details={
            "deployments": float(count),
            "per_day": count / days,
            "per_week": per_week,
            "deployment_days": float(len(slots)),
            "deployment_days_per_week": days_per_week,
            "deployment_days_per_month": monthly,
        },
    )


def _lead_time(tl: Timeline, start: float, end: float, target: Target) -> Metric:
    first, last = _span(tl.lead_ts, start, end)
    # Sorted in seconds, converted once: a window can hold a million commits.
    seconds = sorted(tl.lead_seconds[first:last])
    unmatched_first, unmatched_last = _span(tl.unmatched_ts, start, end)
    median = percentile(seconds, 0.5) / HOUR if seconds else None
    return Metric(
        key="lead_time",
        value=median,
        unit="hours",
        band=None if median is None else bands.lead_time_band(median),
        target=target,
        passed=_verdict(target, median),
        sample_size=len(seconds),
        details={
            "median_hours": median,
            "p90_hours": percentile(seconds, 0.9) / HOUR if seconds else None,
            "commits": float(len(seconds)),
            "unmatched_commits": float(unmatched_last - unmatched_first),
        },
    )


def _change_failure_rate(tl: Timeline, start: float, end: float, target: Target) -> Metric:
    first, last = _span(tl.deploy_ts, start, end)
    total = last - first
    failed = tl.failed_prefix[last] - tl.failed_prefix[first]
    rolled_back = tl.rolled_back_prefix[last] - tl.rolled_back_prefix[first]
    linked = tl.linked_prefix[last] - tl.linked_prefix[first]
    percent = (failed + rolled_back + linked) * 100 / total if total else None
    return Metric(
        key="change_failure_rate",
        value=percent,
        unit="%",
        band=None if percent is None else bands.change_failure_rate_band(percent),
        target=target,
        passed=_verdict(target, percent),
        sample_size=total,
        details={
            "deployments": float(total),
            "failed": float(failed),
            "rolled_back": float(rolled_back),
            "incident_linked": float(linked),
        },
    )


def _time_to_restore(tl: Timeline, start: float, end: float, target: Target) -> Metric:
    inc_first, inc_last = _span(tl.incident_restore_ts, start, end)
    dep_first, dep_last = _span(tl.deploy_restore_ts, start, end)
    hours = sorted(
        seconds / HOUR
        for seconds in (
            *tl.incident_restore_seconds[inc_first:inc_last],
            *tl.deploy_restore_seconds[dep_first:dep_last],
        )
    )
    median = percentile(hours, 0.5) if hours else None
    return Metric(
        key="time_to_restore",
        value=median,
        unit="hours",
        band=None if median is None else bands.recovery_time_band(median),
        target=target,
        passed=_verdict(target, median),
        sample_size=len(hours),
        details={
            "median_hours": median,
            "incidents": float(inc_last - inc_first),
            "failed_deployments": float(dep_last - dep_first),
        },
    )


def summarize(
    timeline: Timeline, *, start: datetime, end: datetime, targets: Targets = SEED_TARGETS
) -> FourKeys:
    """The four keys of a prepared timeline over `[start, end)`; O(log n + window size)."""
    start, end = to_utc(start, "start"), to_utc(end, "end")
    if end <= start:
        raise ValueError("end: must be after start")
    lo, hi = start.timestamp(), end.timestamp()
    return FourKeys(
        service=timeline.service,
        environment=timeline.environment,
        start=start,
        end=end,
        deployment_frequency=_deployment_frequency(timeline, lo, hi, targets.deployment_frequency),
        lead_time=_lead_time(timeline, lo, hi, targets.lead_time),
        change_failure_rate=_change_failure_rate(timeline, lo, hi, targets.change_failure_rate),
        time_to_restore=_time_to_restore(timeline, lo, hi, targets.time_to_restore),
    )


def compute_four_keys(
    deployments: Iterable[DeploymentEvent],
    incidents: Iterable[IncidentEvent],
    commits: Iterable[CommitEvent],
    *,
    service: str,
    environment: str = "prod",
    start: datetime,
    end: datetime,
    incident_link_window: timedelta = DEFAULT_INCIDENT_LINK_WINDOW,
    targets: Targets = SEED_TARGETS,
) -> FourKeys:
    """The four keys of `service` in `environment` over `[start, end)`.

    Pass every deployment up to `end` (earlier ones decide which deployment first
    delivered a commit and where a failure streak began), deduplicated (see `dedupe`).
    """
    timeline = prepare(
        deployments,
        incidents,
        commits,
        service=service,
        environment=environment,
        incident_link_window=incident_link_window,
    )
    return summarize(timeline, start=start, end=end, targets=targets)
