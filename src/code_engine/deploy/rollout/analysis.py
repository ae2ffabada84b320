"""Pure analysis: metric samples, histogram quantiles and judging a sample against SLOs."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from code_engine.deploy.rollout.model import AnalysisSpec, Measurement, Verdict
from code_engine.errors import CodeError

Bucket = tuple[float, float]  # (upper bound `le`, cumulative count), Prometheus-style


class MetricError(CodeError):
    """A metric provider could not answer; the measurement becomes inconclusive."""


@dataclass(frozen=True)
class MetricSample:
    """Traffic of one version over (since, until].

    Latency is either `p95_ms` or cumulative `latency_buckets` with upper bounds in seconds
    (the Prometheus convention); with buckets, the tail (p99, share of slow requests) can be
    judged too. `errors` counts 5xx answers, the router's own among them: `timeouts` (504,
    the instance did not answer in time) and `connect_errors` (502, no connection or the
    instance hung up) are parts of `errors`. `in_flight_buckets` are the ages of the
    requests still waiting at `until`, cumulative like the latency buckets. `error` is set
    when the provider failed.
    """

    version: str
    since: datetime
    until: datetime
    requests: float = 0.0
    errors: float = 0.0
    p95_ms: float | None = None
    latency_buckets: tuple[Bucket, ...] | None = None
    error: str | None = None
    timeouts: float = 0.0
    connect_errors: float = 0.0
    in_flight_buckets: tuple[Bucket, ...] | None = None
    p99_ms: float | None = None

    @classmethod
    def failed(cls, version: str, since: datetime, until: datetime, error: str) -> MetricSample:
        """A sample standing for a provider error."""
        return cls(version, since, until, error=error)

    def p95(self) -> float | None:
        """The 95th percentile latency in milliseconds, if known."""
        if self.p95_ms is not None:
            return None if math.isnan(self.p95_ms) else self.p95_ms
        return self.quantile_ms(0.95)

    def quantile_ms(self, q: float, stuck: float = 0.0) -> float | None:
        """The q-quantile of the latency buckets in milliseconds, `stuck` requests counted
        as slower than every bound; None without buckets."""
        if self.latency_buckets is None:
            return None
        buckets = list(self.latency_buckets)
        if stuck > 0 and buckets:
            buckets = [*buckets[:-1], (buckets[-1][0], buckets[-1][1] + stuck)]
        seconds = histogram_quantile(q, buckets)
        return None if seconds is None else seconds * 1000.0

    def stuck(self, threshold_ms: float) -> float:
        """Requests in flight at `until` for longer than `threshold_ms`."""
        if self.in_flight_buckets is None:
            return 0.0
        return count_above(self.in_flight_buckets, threshold_ms / 1000.0)

    def slow(self, threshold_ms: float) -> float | None:
        """Answered requests slower than `threshold_ms`; None without buckets."""
        if self.latency_buckets is None:
            return None
        return count_above(self.latency_buckets, threshold_ms / 1000.0)


class MetricProvider(Protocol):
    """A source of per-version traffic statistics (CODE's router, Prometheus, ...)."""

    def sample(self, version: str, since: datetime, until: datetime) -> MetricSample:
        """Requests, errors and latency of `version` over (since, until]; raises MetricError."""
        ...


def histogram_quantile(q: float, buckets: Sequence[Bucket]) -> float | None:
    """The q-quantile of cumulative buckets, interpolated linearly as PromQL does.

    None where PromQL gives NaN: no +Inf bucket, fewer than two buckets or no observations.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be between 0 and 1, got {q}")
    ordered = sorted(buckets, key=lambda b: b[0])
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    bounds = [b[0] for b in ordered]
    counts: list[float] = []
    for _, count in ordered:  # cumulative counts never decrease; repair like PromQL does
        counts.append(max(count, counts[-1]) if counts else count)
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    index = next(i for i, c in enumerate(counts) if c >= rank)
    if index == len(ordered) - 1:
        return bounds[-2]
    if index == 0 and bounds[0] <= 0:
        return bounds[0]
    start = 0.0 if index == 0 else bounds[index - 1]
    below = 0.0 if index == 0 else counts[index - 1]
    in_bucket = counts[index] - below
    if in_bucket <= 0:
        return start
    return start + (bounds[index] - start) * ((rank - below) / in_bucket)


def count_above(buckets: Sequence[Bucket], bound: float) -> float:
    """Observations of cumulative buckets above `bound`, interpolated inside its bucket."""
    ordered = sorted(buckets, key=lambda b: b[0])
    if not ordered:
        return 0.0
    total = max(count for _, count in ordered)
    below, lower = 0.0, 0.0
    for upper, count in ordered:
        count = max(count, below)
        if bound < upper:
            if math.isinf(upper):
                return max(0.0, total - below)
            share = (bound - lower) / (upper - lower) if upper > lower else 1.0
            return max(0.0, total - (below + (count - below) * max(0.0, share)))
        below, lower = count, upper
    return max(0.0, total - below)


def p95_from_histogram(buckets: Sequence[Bucket]) -> float | None:
    """The 95th percentile of cumulative buckets, in the unit of their bounds."""
    return histogram_quantile(0.95, buckets)


def evaluate(sample: MetricSample, spec: AnalysisSpec) -> Measurement:
    """Judge a sample by what clients experienced.

    Requests still in flight for longer than the tail threshold count as failed (and slow);
    a window where requests were sent but the instance answered none fails whatever its
    size; too few requests or unknown data is inconclusive; a breached objective fails.
    """
    if sample.error is not None:
        return _judged(sample, Verdict.INCONCLUSIVE, f"metric provider error: {sample.error}")
    requests = 0.0 if math.isnan(sample.requests) else sample.requests
    stuck = sample.stuck(spec.slow_ms)
    hard = stuck + sample.timeouts + sample.connect_errors
    attempted = requests + stuck
    answered = requests - sample.timeouts - sample.connect_errors
    if answered <= 0 and hard > 0:
        why = _hard_failures(sample, stuck, spec)
        return _judged(sample, Verdict.FAIL, f"no request answered: {why}", stuck=stuck)
    least = max(spec.min_requests, 1)
    if attempted < least:
        shown = round(attempted)
        return _judged(
            sample, Verdict.INCONCLUSIVE, f"{shown} requests, fewer than {least}", stuck=stuck
        )
    errors = 0.0 if math.isnan(sample.errors) else sample.errors
    rate = (errors + stuck) / attempted
    p95 = sample.p95_ms if sample.p95_ms is not None else sample.quantile_ms(0.95, stuck)
    p95 = None if p95 is not None and math.isnan(p95) else p95
    p99 = sample.p99_ms if sample.p99_ms is not None else sample.quantile_ms(0.99, stuck)
    slow = sample.slow(spec.slow_ms)
    slow_rate = None if slow is None and not stuck else ((slow or 0.0) + stuck) / attempted
    judged = functools.partial(
        _judged, sample, rate=rate, p95=p95, p99=p99, slow_rate=slow_rate, stuck=stuck
    )
    if rate > spec.max_error_rate:
        reason = f"error rate {rate:.2%} above {spec.max_error_rate:.2%}"
        if hard > 0:
            reason += f" ({_hard_failures(sample, stuck, spec)})"
        return judged(Verdict.FAIL, reason)
    if p95 is None:
        return judged(Verdict.INCONCLUSIVE, "no latency data")
    if p95 > spec.max_p95_ms:
        return judged(Verdict.FAIL, f"p95 {p95:.0f} ms above {spec.max_p95_ms:.0f} ms")
    if p99 is not None and p99 > spec.max_p99_ms:
        return judged(Verdict.FAIL, f"p99 {p99:.0f} ms above {spec.max_p99_ms:.0f} ms")
    if slow_rate is not None and slow_rate > spec.max_slow_rate:
        reason = (
            f"{slow_rate:.2%} of requests slower than {spec.slow_ms:.0f} ms, "
            f"above {spec.max_slow_rate:.2%}"
        )
        return judged(Verdict.FAIL, reason)
    reason = f"error rate {rate:.2%}, p95 {p95:.0f} ms"
    reason += "" if p99 is None else f", p99 {p99:.0f} ms"
    return judged(Verdict.PASS, reason + " within SLO")


def _hard_failures(sample: MetricSample, stuck: float, spec: AnalysisSpec) -> str:
    parts = []
    if stuck:
        parts.append(f"{round(stuck)} in flight for more than {spec.slow_ms:.0f} ms")
    if sample.timeouts:
        parts.append(f"{round(sample.timeouts)} timed out")
    if sample.connect_errors:
        parts.append(f"{round(sample.connect_errors)} connection errors")
    return ", ".join(parts)


def _judged(
    sample: MetricSample,
    verdict: Verdict,
    reason: str,
    *,
    rate: float | None = None,
    p95: float | None = None,
    p99: float | None = None,
    slow_rate: float | None = None,
    stuck: float = 0.0,
) -> Measurement:
    requests = 0.0 if math.isnan(sample.requests) else sample.requests
    errors = 0.0 if math.isnan(sample.errors) else sample.errors
    return Measurement(
        sample.since,
        sample.until,
        requests,
        errors,
        rate,
        p95,
        verdict,
        reason,
        p99_ms=p99,
        slow_rate=slow_rate,
        stuck=stuck,
        timeouts=sample.timeouts,
        connect_errors=sample.connect_errors,
    )
