"""Retention on a synthetic calendar: hourly snapshots over a year, an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from code_engine.dr.domain import Manifest
from code_engine.dr.retention import RetentionPolicy, plan_prune

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=timezone.utc)  # a Sunday


def snap(at: datetime, source: str = "db") -> Manifest:
    return Manifest(
        id=f"{at:%Y%m%dT%H%M%SZ}-{source[:2]:0>6}"[:23],
        source=source,
        kind="sqlite",
        taken_at=at,
        key_id="k",
        release="1",
        engine="e",
        tools={},
        objects=(),
    )


def hourly(days: int, source: str = "db") -> list[Manifest]:
    return [snap(NOW - timedelta(hours=h), source) for h in range(days * 24)]


def kept(plan) -> list[datetime]:  # type: ignore[no-untyped-def]
    return sorted(d.manifest.taken_at for d in plan if d.keep)


def test_daily_weekly_monthly_buckets_keep_the_newest_of_each() -> None:
    plan = plan_prune(hourly(400), set(), RetentionPolicy(7, 4, 12), NOW)
    times = kept(plan)
    dailies = {t.date() for t in times if (NOW.date() - t.date()).days < 7}
    assert len(dailies) == 7
    # the Sunday before the window closes last ISO week: kept as weekly #2
    assert datetime(2026, 3, 8, 23, 30, tzinfo=timezone.utc) in times
    # each kept snapshot is the newest of its day: 23:xx, except today's newest
    assert all(t.hour == 23 for t in times if t.date() != NOW.date())
    months = {(t.year, t.month) for t in times}
    assert len(months) == 12
    assert len(times) <= 7 + 4 + 12 and len(times) >= 12
    assert NOW in times


def test_max_age_removes_old_buckets_but_not_the_newest() -> None:
    plan = plan_prune(hourly(100), set(), RetentionPolicy(7, 4, 12, timedelta(days=30)), NOW)
    assert all(NOW - t <= timedelta(days=30) for t in kept(plan))
    old = [snap(NOW - timedelta(days=60))]
    only = plan_prune(old, set(), RetentionPolicy(1, 0, 0, timedelta(days=30)), NOW)
    assert only[0].keep and "newest snapshot" in only[0].reasons


def test_the_newest_verified_snapshot_is_never_removed() -> None:
    snaps = hourly(3)
    verified = snaps[30]  # yesterday, not the newest of its day
    plan = plan_prune(snaps, {verified.id}, RetentionPolicy(1, 0, 0), NOW)
    decision = next(d for d in plan if d.manifest.id == verified.id)
    assert decision.keep and "newest verified snapshot" in decision.reasons
    assert sum(d.keep for d in plan) == 2


def test_sources_are_pruned_separately_and_future_snapshots_are_kept() -> None:
    snaps = hourly(2, "a") + hourly(2, "b") + [snap(NOW + timedelta(days=3), "a")]
    plan = plan_prune(snaps, set(), RetentionPolicy(1, 0, 0), NOW)
    assert {d.manifest.source for d in plan if d.keep} == {"a", "b"}
    future = next(d for d in plan if d.manifest.taken_at > NOW)
    assert future.keep
    assert all(not d.keep for d in plan if d.manifest.taken_at < NOW - timedelta(days=1))
