"""Judging samples against SLOs and histogram quantiles as PromQL computes them."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from code_engine.deploy.rollout import (
    AnalysisSpec,
    MetricSample,
    Verdict,
    count_above,
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


def tail(
    answered: float, slow: float, slow_seconds: float = 2.0
) -> tuple[tuple[float, float], ...]:
    """Cumulative buckets: `answered - slow` requests within 50 ms, `slow` at `slow_seconds`."""
    fast = answered - slow
    return ((0.05, fast), (0.1, fast), (1.0, fast), (slow_seconds + 1, answered), (INF, answered))


def in_flight(over_a_second: float) -> tuple[tuple[float, float], ...]:
    return ((0.5, 0.0), (1.0, 0.0), (30.0, over_a_second), (INF, over_a_second))


def test_a_one_percent_tail_at_ten_times_the_objective_fails() -> None:
    # 1% of requests at 2 s, ten times the p95 objective: p95 stays at 50 ms
    measured = evaluate(sample(1000, latency_buckets=tail(1000, 10)), SPEC)
    assert measured.verdict is Verdict.FAIL
    assert measured.reason == "1.00% of requests slower than 1000 ms, above 0.50%"
    assert measured.p95_ms is not None and measured.p95_ms < 200
    assert measured.slow_rate == pytest.approx(0.01)


def test_p99_objective() -> None:
    spec = AnalysisSpec(min_requests=100, max_p99_ms=500.0, slow_ms=5000.0)
    measured = evaluate(sample(1000, latency_buckets=tail(1000, 20, 1.0)), spec)
    assert measured.verdict is Verdict.FAIL
    assert measured.reason.startswith("p99 ") and "above 500 ms" in measured.reason
    fine = evaluate(sample(1000, latency_buckets=tail(1000, 0)), spec)
    assert fine.verdict is Verdict.PASS and fine.p99_ms is not None


def test_requests_hanging_in_flight_count_as_failed_and_slow() -> None:
    spec = AnalysisSpec(min_requests=100, max_error_rate=0.01)
    measured = evaluate(
        sample(970, latency_buckets=tail(970, 0), in_flight_buckets=in_flight(30)), spec
    )
    assert measured.verdict is Verdict.FAIL
    assert measured.stuck == 30
    assert measured.error_rate == pytest.approx(30 / 1000)
    assert "30 in flight for more than 1000 ms" in measured.reason


def test_a_window_where_nothing_was_answered_fails_whatever_its_size() -> None:
    hung = evaluate(sample(0, in_flight_buckets=in_flight(3)), SPEC)
    assert hung.verdict is Verdict.FAIL
    assert hung.reason == "no request answered: 3 in flight for more than 1000 ms"
    timed_out = evaluate(sample(4, 4, timeouts=3, connect_errors=1), SPEC)
    assert timed_out.verdict is Verdict.FAIL
    assert timed_out.reason == "no request answered: 3 timed out, 1 connection errors"
    # young requests in flight are not stuck: nothing to judge yet
    young = ((0.5, 5.0), (1.0, 5.0), (INF, 5.0))
    assert evaluate(sample(0, in_flight_buckets=young), SPEC).verdict is Verdict.INCONCLUSIVE


def test_router_timeouts_among_answers_count_in_the_error_rate() -> None:
    measured = evaluate(sample(1000, 20, p95_ms=20.0, timeouts=20), SPEC)
    assert measured.verdict is Verdict.FAIL
    assert measured.reason == "error rate 2.00% above 0.10% (20 timed out)"
    assert measured.timeouts == 20


@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=6),
    st.floats(0, 10, allow_nan=False),
)
def test_count_above_is_between_zero_and_the_total(counts: list[float], bound: float) -> None:
    bounds = [0.1 * (i + 1) for i in range(len(counts))] + [INF]
    cumulative = list(itertools.accumulate(counts))
    buckets = list(zip(bounds, [*cumulative, cumulative[-1]], strict=True))
    above = count_above(buckets, bound)
    assert 0.0 <= above <= cumulative[-1] + 1e-9
    assert count_above(buckets, 0.0) == pytest.approx(cumulative[-1])
