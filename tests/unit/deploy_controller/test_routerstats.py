"""RouterStatsProvider: windows of cumulative router counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

import pytest

from code_engine.deploy.controller.routerstats import RouterStatsProvider, difference
from code_engine.deploy.rollout import MetricError
from code_engine.deploy.router import RouterError, VersionStats
from code_engine.deploy.router.stats import LATENCY_BOUNDS_MS, StatsBook

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
S = timedelta(seconds=1)


class FakeRouter:
    kind = "fake"

    def __init__(self) -> None:
        self.book = StatsBook()
        self.resets = 0
        self.down = False

    def record(self, version: str, count: int, status: int = 200, ms: float = 4.0) -> None:
        for _ in range(count):
            self.book.record(version, status, ms)

    def stats(self) -> dict[str, VersionStats]:
        if self.down:
            raise RouterError("router control unreachable")
        return self.book.snapshot({})

    def reset_stats(self) -> None:
        self.resets += 1
        self.book.reset()

    def set_backends(self, backends: Mapping[str, Sequence[str]]) -> None: ...
    def set_weights(self, weights: Mapping[str, int]) -> None: ...
    def get_weights(self) -> dict[str, int]:
        return {}

    def verify_weights(self, expected: Mapping[str, int]) -> bool:
        return True

    def wait_idle(self, version: str, timeout: float) -> bool:
        return True


def test_each_window_counts_only_its_own_requests() -> None:
    router = FakeRouter()
    router.record("v2", 7)
    provider = RouterStatsProvider(router)
    provider.reset("v2", T0)
    assert router.resets == 1
    router.record("v2", 10)
    router.record("v2", 2, status=503)
    router.record("v1", 50)
    first = provider.sample("v2", T0, T0 + S)
    assert (first.requests, first.errors) == (12, 2)
    assert (p95 := first.p95()) is not None and p95 <= LATENCY_BOUNDS_MS[4]
    router.record("v2", 5, ms=300)
    second = provider.sample("v2", T0 + S, T0 + 2 * S)
    assert (second.requests, second.errors) == (5, 0)
    assert (p95 := second.p95()) is not None and p95 > 250


def test_an_unknown_window_start_counts_since_the_reset() -> None:
    router = FakeRouter()
    provider = RouterStatsProvider(router)  # a restarted controller: no marks
    router.record("v2", 30)
    sample = provider.sample("v2", T0, T0 + S)
    assert sample.requests == 30


def test_probes_of_an_open_window_do_not_shift_it() -> None:
    router = FakeRouter()
    provider = RouterStatsProvider(router)
    provider.reset("v2", T0)
    router.record("v2", 3)
    assert provider.sample("v2", T0, T0 + S / 2).requests == 3  # a fail-fast probe
    router.record("v2", 4)
    assert provider.sample("v2", T0, T0 + S).requests == 7


def test_a_version_without_traffic_has_none() -> None:
    sample = RouterStatsProvider(FakeRouter()).sample("v9", T0, T0 + S)
    assert (sample.requests, sample.p95()) == (0, None)


def test_an_unreachable_router_is_a_metric_error() -> None:
    router = FakeRouter()
    router.down = True
    with pytest.raises(MetricError, match="unreachable"):
        RouterStatsProvider(router).sample("v2", T0, T0 + S)


def test_difference_treats_lower_counters_as_a_reset() -> None:
    now = VersionStats(requests=3, errors=1)
    assert difference(now, VersionStats(requests=10)) == now


def test_a_router_without_histogram_is_judged_by_its_mean_latency() -> None:
    router = FakeRouter()
    provider = RouterStatsProvider(router)
    haproxy_like = VersionStats(requests=40, errors=0, latency_sum_ms=40 * 310.0)
    router.stats = lambda: {"v2": haproxy_like}  # type: ignore[method-assign]
    sample = provider.sample("v2", T0, T0 + S)
    assert (sample.requests, sample.p95_ms) == (40, 310.0)


def test_looking_at_a_paused_canary_every_tick_keeps_few_marks() -> None:
    router = FakeRouter()
    provider = RouterStatsProvider(router)
    provider.reset("v2", T0)
    router.record("v2", 5)
    for tick in range(1, 500):  # the same window start, looked at again and again
        sample = provider.sample("v2", T0, T0 + tick * S)
    assert sample.requests == 5
    assert len(provider._marks) <= 40
    router.record("v2", 3)
    later = provider.sample("v2", T0 + 499 * S, T0 + 500 * S)  # a window from the last look
    assert later.requests == 3


def test_timeouts_connection_errors_and_waiting_requests_reach_the_sample() -> None:
    router = FakeRouter()
    provider = RouterStatsProvider(router)
    provider.reset("v2", T0)
    router.book.record("v2", 504, 30_000.0, "timeout")
    router.book.record("v2", 502, 1.0, "connect")
    router.record("v2", 8)
    waiting = router.book.snapshot({"v2": 2}, {"v2": [5.0, 3000.0]})
    router.stats = lambda: waiting  # type: ignore[method-assign]
    sample = provider.sample("v2", T0, T0 + S)
    assert (sample.requests, sample.errors, sample.timeouts, sample.connect_errors) == (
        10,
        2,
        1,
        1,
    )
    assert sample.stuck(1000.0) == pytest.approx(1.0)
    assert sample.slow(1000.0) == pytest.approx(1.0)  # the 30 s one
