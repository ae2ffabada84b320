from __future__ import annotations

import pytest

from code_engine.deploy.router.stats import (
    LATENCY_BOUNDS_MS,
    StatsBook,
    VersionStats,
    bucket_index,
    quantile,
)


def test_quantile_of_an_empty_histogram_is_none() -> None:
    assert quantile([0] * 4, 0.95, bounds=(1, 2, 3)) is None


def test_quantile_interpolates_inside_the_bucket() -> None:
    # 100 observations: 90 in (0, 10], 10 in (10, 20]
    buckets = [90, 10, 0]
    assert quantile(buckets, 0.5, bounds=(10, 20)) == pytest.approx(50 / 90 * 10)
    assert quantile(buckets, 0.95, bounds=(10, 20)) == pytest.approx(15.0)
    assert quantile(buckets, 1.0, bounds=(10, 20)) == pytest.approx(20.0)


def test_quantile_in_the_overflow_bucket_reports_the_last_bound() -> None:
    assert quantile([0, 0, 5], 0.95, bounds=(10, 20)) == 20.0


def test_bucket_index_counts_a_bound_in_its_own_bucket() -> None:
    assert bucket_index(0.2) == 0
    assert bucket_index(0.5) == 0
    assert bucket_index(0.51) == 1
    assert bucket_index(1e9) == len(LATENCY_BOUNDS_MS)


def test_stats_book_counts_requests_errors_and_latency_per_version() -> None:
    book = StatsBook()
    for status, elapsed in [(200, 1.5), (200, 2.5), (502, 40.0), (404, 3.0)]:
        book.record("v2", status, elapsed)
    book.record("v1", 200, 0.3)
    snapshot = book.snapshot({"v1": 0, "v2": 1, "v3": 2})
    v2 = snapshot["v2"]
    assert (v2.requests, v2.errors, v2.in_flight) == (4, 1, 1)
    assert v2.error_rate == 0.25
    assert v2.mean_ms == pytest.approx(47.0 / 4)
    assert sum(v2.buckets) == 4
    assert snapshot["v3"] == VersionStats(in_flight=2)
    book.reset()
    assert book.snapshot({}) == {}


def test_version_stats_json_round_trip() -> None:
    stats = VersionStats(requests=3, errors=1, in_flight=0, latency_sum_ms=9.0)
    assert VersionStats.from_json(stats.to_json()) == stats
    assert stats.p95_ms is None
