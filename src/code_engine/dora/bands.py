"""DORA performance bands (2024 report) and the seed's targets for the four keys.

Source: Google Cloud / DORA, "Accelerate State of DevOps Report 2024", software delivery
performance clusters (the latest report that publishes them). The report describes each
cluster by one figure or range per metric, and the clusters are not ordered on every
metric: the high cluster's change failure rate (20 %) is above the medium one's (10 %),
and high and medium share "less than one day" of recovery time. A value gets the best
cluster whose published figure it meets; so on those two metrics medium is never the
answer (what meets medium's figure meets high's). `docs/metrics.md` lists the cut-offs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Band(str, Enum):
    """A performance cluster of the State of DevOps report."""

    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


REPORT = "Accelerate State of DevOps Report"
REPORT_YEAR = 2024
REPORT_URL = "https://dora.dev/research/2024/dora-report/"

HOURS_PER_DAY = 24.0
HOURS_PER_WEEK = 7 * HOURS_PER_DAY
HOURS_PER_MONTH = 30 * HOURS_PER_DAY


def lead_time_band(median_hours: float) -> Band:
    """Elite < 1 day, high < 1 week, medium < 1 month (30 days), low otherwise."""
    if median_hours < HOURS_PER_DAY:
        return Band.ELITE
    if median_hours < HOURS_PER_WEEK:
        return Band.HIGH
    if median_hours < HOURS_PER_MONTH:
        return Band.MEDIUM
    return Band.LOW


def deployment_frequency_band(
    median_days_per_week: float, median_days_per_month: float | None
) -> Band:
    """From the median number of deployment days per week and per 30 days (DevLake's rule).

    Elite (on demand): a deployment on every day of the median week; high (between once
    per day and once per week): at least one deployment day in the median week; medium
    (between once per week and once per month): at least one in the median month; low
    otherwise. `median_days_per_month` is None when the window holds no whole month; the
    weekly figure then decides alone.
    """
    if median_days_per_week >= 7:
        return Band.ELITE
    if median_days_per_week >= 1:
        return Band.HIGH
    if median_days_per_month is not None and median_days_per_month >= 1:
        return Band.MEDIUM
    return Band.LOW


def change_failure_rate_band(percent: float) -> Band:
    """Elite ≤ 5 %, high ≤ 20 %, low above (the report's clusters: 5, 20, 10 and 40 %)."""
    if percent <= 5:
        return Band.ELITE
    if percent <= 20:
        return Band.HIGH
    return Band.LOW


def recovery_time_band(median_hours: float) -> Band:
    """Elite < 1 hour, high < 1 day (medium's figure too), low otherwise."""
    if median_hours < 1:
        return Band.ELITE
    if median_hours < HOURS_PER_DAY:
        return Band.HIGH
    return Band.LOW


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Target:
    """A goal such as `lead time < 48 hours`."""

    comparison: str
    value: float
    unit: str

    def __post_init__(self) -> None:
        if self.comparison not in _COMPARISONS:
            raise ValueError(f"comparison: must be one of {', '.join(_COMPARISONS)}")

    def met_by(self, value: float) -> bool:
        """Whether a measured value (in `unit`) meets the target."""
        return _COMPARISONS[self.comparison](value, self.value)

    def __str__(self) -> str:
        return f"{self.comparison} {self.value:g} {self.unit}"


@dataclass(frozen=True)
class Targets:
    """One target per key; the defaults are the seed's success metrics."""

    lead_time: Target = Target("<", 48, "hours")
    deployment_frequency: Target = Target(">", 10, "deployments/week")
    change_failure_rate: Target = Target("<", 5, "%")
    time_to_restore: Target = Target("<", 1, "hours")


SEED_TARGETS = Targets()
