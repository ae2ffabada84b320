"""Canary analysis from CODE's own router: a `MetricProvider` over a router's `stats()`.

Router counters are cumulative since the last reset. A window (since, until] is the
difference between the counters now and the snapshot taken when the previous window
ended (every sample remembers its end). When that snapshot is unknown — after the
controller restarted — the window counts everything since the last reset, which is
never less data than asked for. Requests still waiting are a picture of `until`: their
ages, not a difference.

A router without a latency histogram (HAProxy keeps only the mean of its last 1024
responses) is judged by that mean against the p95 objective: a lower bound of the truth,
so a slow canary is still caught; use Prometheus for a real p95 there.
"""

from __future__ import annotations

import itertools
import math
import threading
from datetime import datetime
from typing import Protocol

from code_engine.deploy.rollout import MetricError, MetricSample
from code_engine.deploy.router import RouterError, VersionStats
from code_engine.deploy.router.stats import LATENCY_BOUNDS_MS

ZERO = VersionStats()
MAX_MARKS = 32


class Counters(Protocol):
    """A router's per-version statistics (the controller's `Router` has them)."""

    def stats(self) -> dict[str, VersionStats]: ...

    def reset_stats(self) -> None: ...


def difference(now: VersionStats, before: VersionStats) -> VersionStats:
    """Counters of `now` minus those of `before`; a counter that went down was reset."""
    if now.requests < before.requests:
        return now
    return VersionStats(
        requests=now.requests - before.requests,
        errors=max(0, now.errors - before.errors),
        in_flight=now.in_flight,
        latency_sum_ms=max(0.0, now.latency_sum_ms - before.latency_sum_ms),
        buckets=tuple(max(0, a - b) for a, b in zip(now.buckets, before.buckets, strict=True)),
        timeouts=max(0, now.timeouts - before.timeouts),
        connect_errors=max(0, now.connect_errors - before.connect_errors),
        in_flight_buckets=now.in_flight_buckets,
    )


def cumulative(counts: tuple[int, ...]) -> tuple[tuple[float, float], ...] | None:
    """Router buckets (per bucket, bounds in ms) as cumulative Prometheus-style buckets
    with bounds in seconds; None when the router keeps no histogram (all zero)."""
    if not any(counts):
        return None
    bounds = [b / 1000.0 for b in LATENCY_BOUNDS_MS] + [math.inf]
    return tuple(zip(bounds, itertools.accumulate(float(n) for n in counts), strict=True))


class RouterStatsProvider:
    """Requests, 5xx and p95 latency per version, as the environment's router saw them."""

    def __init__(self, router: Counters) -> None:
        self.router = router
        self._lock = threading.Lock()
        self._marks: dict[tuple[str, datetime], VersionStats] = {}

    def reset(self, version: str, at: datetime) -> None:
        """Zero the router's counters; the window of `version` starting `at` starts from 0."""
        self.router.reset_stats()
        with self._lock:
            self._marks = {(version, at): ZERO}

    def sample(self, version: str, since: datetime, until: datetime) -> MetricSample:
        """The traffic of `version` since the end of the window that ended at `since`."""
        try:
            current = self.router.stats().get(version, ZERO)
        except RouterError as exc:
            raise MetricError(str(exc)) from exc
        with self._lock:
            before = self._marks.get((version, since), ZERO)
            # keep marks a later window may start at; older ones can no longer be asked for
            kept = sorted((k for k in self._marks if k[1] > since), key=lambda k: k[1])
            # a window starts where an earlier one ended: at `since`, or at one of the last
            # looks (a paused canary is looked at every tick; only the newest can be judged)
            keys = [(version, since), *kept[-MAX_MARKS:]]
            self._marks = {k: self._marks[k] for k in keys if k in self._marks}
            self._marks[(version, until)] = current
        window = difference(current, before)
        latency = cumulative(window.buckets)
        mean = None
        if latency is None and window.requests and not any(current.buckets):
            mean = current.mean_ms  # no histogram at this router: its mean latency
        waiting = cumulative(current.in_flight_buckets)
        return MetricSample(
            version,
            since,
            until,
            requests=float(window.requests),
            errors=float(window.errors),
            p95_ms=mean,
            latency_buckets=latency,
            timeouts=float(window.timeouts),
            connect_errors=float(window.connect_errors),
            in_flight_buckets=waiting or ((math.inf, 0.0),),
        )
