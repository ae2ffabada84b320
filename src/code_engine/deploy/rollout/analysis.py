"""Pure analysis: metric samples, histogram quantiles and judging a sample against SLOs."""

from __future__ import annotations

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
    (the Prometheus convention). `error` is set when the provider failed.
    """

    version: str
    since: datetime
    until: datetime
    requests: float = 0.0
    errors: float = 0.0
    p95_ms: float | None = None
    latency_buckets: tuple[Bucket, ...] | None = None
    error: str | None = None

    @classmethod
    def failed(cls, version: str, since: datetime, until: datetime, error: str) -> MetricSample:
        """A sample standing for a provider error."""
        return cls(version, since, until, error=error)

    def p95(self) -> float | None:
        """The 95th percentile latency in milliseconds, if known."""
        if self.p95_ms is not None:
            return None if math.isnan(self.p95_ms) else self.p95_ms
        if self.latency_buckets is None:
            return None
        seconds = p95_from_histogram(self.latency_buckets)
        return None if seconds is None else seconds * 1000.0


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


def p95_from_histogram(buckets: Sequence[Bucket]) -> float | None:
    """The 95th percentile of cumulative buckets, in the unit of their bounds."""
    return histogram_quantile(0.95, buckets)


def evaluate(sample: MetricSample, spec: AnalysisSpec) -> Measurement:
    """Judge a sample: too few requests or unknown data is inconclusive; a breached SLO fails."""
    requests, errors = sample.requests, sample.errors

    def judged(verdict: Verdict, reason: str, rate: float | None, p95: float | None) -> Measurement:
        return Measurement(sample.since, sample.until, requests, errors, rate, p95, verdict, reason)

    if sample.error is not None:
        return judged(Verdict.INCONCLUSIVE, f"metric provider error: {sample.error}", None, None)
    least = max(spec.min_requests, 1)
    if math.isnan(requests) or requests < least:
        shown = 0 if math.isnan(requests) else round(requests)
        return judged(Verdict.INCONCLUSIVE, f"{shown} requests, fewer than {least}", None, None)
    rate = 0.0 if math.isnan(errors) else errors / requests
    p95 = sample.p95()
    if rate > spec.max_error_rate:
        reason = f"error rate {rate:.2%} above {spec.max_error_rate:.2%}"
        return judged(Verdict.FAIL, reason, rate, p95)
    if p95 is None:
        return judged(Verdict.INCONCLUSIVE, "no latency data", rate, None)
    if p95 > spec.max_p95_ms:
        reason = f"p95 {p95:.0f} ms above {spec.max_p95_ms:.0f} ms"
        return judged(Verdict.FAIL, reason, rate, p95)
    reason = f"error rate {rate:.2%}, p95 {p95:.0f} ms within SLO"
    return judged(Verdict.PASS, reason, rate, p95)
