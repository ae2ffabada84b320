"""Judging samples against SLOs and histogram quantiles as PromQL computes them."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from code_engine.deploy.rollout import (
    AnalysisSpec,
    MetricSample,
    Verdict,
    evaluate,
    histogram_quantile,
    p95_from_histogram,
)

from .sim import T0

INF = math.inf
SPEC = AnalysisSpec(min_requests=100, max_error_rate=0.001, max_p95_ms=200.0)
BUCKETS = ((0.1, 50.0), (0.2, 90.0), (0.5, 100.0), (INF, 100.0))


def sample(requests: float = 1000, errors: float = 0, **kw: object) -> MetricSample:
    return MetricSample("v2", T0, T0 + timedelta(minutes=1), requests, errors, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given_sample", "verdict", "reason"),
    [
        (sample(p95_ms=120.0), Verdict.PASS, "error rate 0.00%, p95 120 ms within SLO"),
        (sample(99, p95_ms=10.0), Verdict.INCONCLUSIVE, "99 requests, fewer than 100"),
        (sample(math.nan), Verdict.INCONCLUSIVE, "0 requests, fewer than 100"),
        (sample(1000, 2, p95_ms=10.0), Verdict.FAIL, "error rate 0.20% above 0.10%"),
        (sample(1000, 1, p95_ms=10.0), Verdict.PASS, "error rate 0.10%, p95 10 ms within SLO"),
        (sample(1000, 50), Verdict.FAIL, "error rate 5.00% above 0.10%"),
        (sample(p95_ms=250.0), Verdict.FAIL, "p95 250 ms above 200 ms"),
        (sample(), Verdict.INCONCLUSIVE, "no latency data"),
        (sample(p95_ms=math.nan), Verdict.INCONCLUSIVE, "no latency data"),
        (
            sample(errors=math.nan, p95_ms=5.0),
            Verdict.PASS,
            "error rate 0.00%, p95 5 ms within SLO",
        ),
        (sample(latency_buckets=BUCKETS), Verdict.FAIL, "p95 350 ms above 200 ms"),
        (sample(latency_buckets=((0.1, 0.0), (INF, 0.0))), Verdict.INCONCLUSIVE, "no latency data"),
        (
            MetricSample.failed("v2", T0, T0, "connection refused"),
            Verdict.INCONCLUSIVE,
            "metric provider error: connection refused",
        ),
    ],
)
def test_evaluate(given_sample: MetricSample, verdict: Verdict, reason: str) -> None:
    measurement = evaluate(given_sample, SPEC)
    assert (measurement.verdict, measurement.reason) == (verdict, reason)
    assert (measurement.since, measurement.taken_at) == (given_sample.since, given_sample.until)


def test_no_minimum_still_needs_one_request() -> None:
    spec = AnalysisSpec(min_requests=0)
    assert evaluate(sample(0), spec).reason == "0 requests, fewer than 1"
    assert evaluate(sample(1, p95_ms=1.0), spec).verdict is Verdict.PASS


def test_measurement_carries_values() -> None:
    m = evaluate(sample(400, 2, p95_ms=90.0), SPEC)
    assert (m.requests, m.errors, m.error_rate, m.p95_ms) == (400, 2, 0.005, 90.0)


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.95, BUCKETS, 0.35),
        (0.5, BUCKETS, 0.1),
        (0.25, BUCKETS, 0.05),
        (0.7, BUCKETS, 0.15),
        (0.99, ((0.1, 10.0), (0.2, 20.0), (INF, 100.0)), 0.2),  # lands in +Inf: highest bound
        (0.5, ((-1.0, 10.0), (0.0, 10.0), (INF, 10.0)), -1.0),  # first bucket at or below zero
        (7 / 8, ((0.1, 6.0), (0.2, 2.0), (0.3, 8.0), (INF, 8.0)), 0.25),  # non-monotonic, repaired
        (0.0, ((0.1, 0.0), (0.2, 5.0), (INF, 5.0)), 0.0),
        (1.0, ((INF, 4.0), (0.3, 4.0)), 0.3),  # unsorted input
        (0.5, ((0.1, 5.0), (0.2, 10.0)), None),  # no +Inf bucket
        (0.5, ((INF, 10.0),), None),  # a single bucket
        (0.5, ((0.1, 0.0), (INF, 0.0)), None),  # no observations
    ],
)
def test_histogram_quantile(
    q: float, buckets: tuple[tuple[float, float], ...], expected: float | None
) -> None:
    got = histogram_quantile(q, buckets)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_p95_from_histogram() -> None:
    assert p95_from_histogram(BUCKETS) == pytest.approx(0.35)
    assert sample(latency_buckets=BUCKETS).p95() == pytest.approx(350.0)


def test_quantile_out_of_range() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        histogram_quantile(1.5, BUCKETS)


@given(
    st.lists(st.floats(0.001, 100.0), min_size=1, max_size=8, unique=True),
    st.lists(st.integers(0, 1000), min_size=9, max_size=9),
    st.floats(0.0, 1.0),
)
def test_quantile_stays_within_the_finite_bounds(
    bounds: list[float], increments: list[int], q: float
) -> None:
    bounds = sorted(bounds)
    counts, total = [], 0.0
    for inc in increments[: len(bounds) + 1]:
        total += inc
        counts.append(total)
    buckets = [*zip(bounds, counts[: len(bounds)], strict=True), (INF, counts[len(bounds)])]
    value = histogram_quantile(q, buckets)
    if total == 0:
        assert value is None
    else:
        assert value is not None and 0.0 <= value <= bounds[-1]
