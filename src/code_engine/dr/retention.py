"""Which snapshots pruning keeps: calendar buckets, a maximum age, and the newest verified one.

Pure: `plan_prune` takes the snapshots, what is verified and the time, and returns a plan.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from code_engine.dr.domain import Manifest


@dataclass(frozen=True)
class RetentionPolicy:
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12
    max_age: timedelta | None = None


@dataclass(frozen=True)
class PruneDecision:
    manifest: Manifest
    keep: bool
    reasons: tuple[str, ...]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _buckets(day: date, today: date) -> dict[str, int]:
    """How many days, ISO weeks and months before `today` the day lies (0 = the current one)."""
    week = day - timedelta(days=day.weekday())
    this_week = today - timedelta(days=today.weekday())
    return {
        "daily": (today - day).days,
        "weekly": (this_week - week).days // 7,
        "monthly": _month_index(today) - _month_index(day),
    }


def plan_prune(
    manifests: Sequence[Manifest],
    verified: Collection[str],
    policy: RetentionPolicy,
    now: datetime,
) -> list[PruneDecision]:
    """Decide, per source, which snapshots stay; newest first in the result."""
    decisions: list[PruneDecision] = []
    for source in sorted({m.source for m in manifests}):
        own = sorted(
            (m for m in manifests if m.source == source), key=lambda m: m.taken_at, reverse=True
        )
        decisions.extend(_plan_source(own, verified, policy, now))
    return decisions


def _plan_source(
    newest_first: list[Manifest],
    verified: Collection[str],
    policy: RetentionPolicy,
    now: datetime,
) -> list[PruneDecision]:
    today = now.astimezone(timezone.utc).date()
    limits = {
        "daily": policy.keep_daily,
        "weekly": policy.keep_weekly,
        "monthly": policy.keep_monthly,
    }
    taken: dict[str, set[int]] = {name: set() for name in limits}
    newest_verified = next((m.id for m in newest_first if m.id in verified), None)
    result = []
    for position, m in enumerate(newest_first):
        reasons: list[str] = ["newest snapshot"] if position == 0 else []
        if m.taken_at > now:
            reasons.append("taken in the future: kept for inspection")
        for name, index in _buckets(m.taken_at.astimezone(timezone.utc).date(), today).items():
            if 0 <= index < limits[name] and index not in taken[name]:
                taken[name].add(index)
                reasons.append(f"{name} #{index + 1}")
        if policy.max_age is not None and now - m.taken_at > policy.max_age:
            reasons = [r for r in reasons if r.startswith(("taken in the future", "newest"))]
        if m.id == newest_verified:
            reasons.append("newest verified snapshot")
        decisions = PruneDecision(m, bool(reasons), tuple(reasons) or ("outside retention",))
        result.append(decisions)
    return result
