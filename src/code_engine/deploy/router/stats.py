"""Per-version request statistics: counts, 5xx and a fixed-bucket latency histogram."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Upper bounds of the latency buckets in milliseconds; one more bucket catches the rest.
LATENCY_BOUNDS_MS: tuple[float, ...] = (
    0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 75, 100, 150, 250, 500, 750,
    1000, 2500, 5000, 10000,
)  # fmt: skip


def quantile(
    buckets: Sequence[int], q: float, bounds: Sequence[float] = LATENCY_BOUNDS_MS
) -> float | None:
    """The q-quantile (0..1) of a histogram, interpolated linearly inside its bucket.

    `buckets[i]` counts observations <= `bounds[i]` and above the previous bound; the last
    bucket (beyond every bound) is reported as the last bound. None when empty.
    """
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(buckets):
        if count and seen + count >= rank:
            if index >= len(bounds):
                return float(bounds[-1])
            lower = bounds[index - 1] if index > 0 else 0.0
            upper = bounds[index]
            return lower + (upper - lower) * max(rank - seen, 0.0) / count
        seen += count
    return float(bounds[-1])


def bucket_index(elapsed_ms: float, bounds: Sequence[float] = LATENCY_BOUNDS_MS) -> int:
    """Index of the bucket that counts an observation of `elapsed_ms`."""
    return bisect.bisect_left(bounds, elapsed_ms)


NO_BUCKETS = (0,) * (len(LATENCY_BOUNDS_MS) + 1)
TIMEOUT = "timeout"  # the instance did not answer in time: 504, or a response cut
CONNECT = "connect"  # no connection to the instance, or it hung up before answering: 502


@dataclass(frozen=True)
class VersionStats:
    """What the router saw of one version since the last reset.

    `timeouts` and `connect_errors` are among `errors`. `in_flight_buckets` counts the
    requests waiting now by age, with the bounds of the latency buckets; it is not reset.
    """

    requests: int = 0
    errors: int = 0
    in_flight: int = 0
    latency_sum_ms: float = 0.0
    buckets: tuple[int, ...] = field(default=NO_BUCKETS)
    timeouts: int = 0
    connect_errors: int = 0
    in_flight_buckets: tuple[int, ...] = field(default=NO_BUCKETS)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def mean_ms(self) -> float | None:
        return self.latency_sum_ms / self.requests if self.requests else None

    @property
    def p95_ms(self) -> float | None:
        return quantile(self.buckets, 0.95)

    def quantile_ms(self, q: float) -> float | None:
        return quantile(self.buckets, q)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "in_flight": self.in_flight,
            "latency_sum_ms": self.latency_sum_ms,
            "buckets": list(self.buckets),
            "p95_ms": self.p95_ms,
            "timeouts": self.timeouts,
            "connect_errors": self.connect_errors,
            "in_flight_buckets": list(self.in_flight_buckets),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VersionStats:
        return cls(
            requests=int(data["requests"]),
            errors=int(data["errors"]),
            in_flight=int(data.get("in_flight", 0)),
            latency_sum_ms=float(data.get("latency_sum_ms", 0.0)),
            buckets=tuple(int(n) for n in data["buckets"]),
            timeouts=int(data.get("timeouts", 0)),
            connect_errors=int(data.get("connect_errors", 0)),
            in_flight_buckets=tuple(int(n) for n in data.get("in_flight_buckets", NO_BUCKETS)),
        )


class _Counter:
    __slots__ = ("buckets", "connect_errors", "errors", "requests", "sum_ms", "timeouts")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.timeouts = 0
        self.connect_errors = 0
        self.sum_ms = 0.0
        self.buckets = [0] * (len(LATENCY_BOUNDS_MS) + 1)


class StatsBook:
    """Mutable counters of the running proxy; `snapshot()` gives immutable `VersionStats`."""

    def __init__(self) -> None:
        self._counters: dict[str, _Counter] = {}

    def record(
        self, version: str, status: int, elapsed_ms: float, failure: str | None = None
    ) -> None:
        counter = self._counters.get(version)
        if counter is None:
            counter = self._counters[version] = _Counter()
        counter.requests += 1
        if status >= 500 or failure is not None:
            counter.errors += 1
            if failure == TIMEOUT:
                counter.timeouts += 1
            elif failure == CONNECT:
                counter.connect_errors += 1
        counter.sum_ms += elapsed_ms
        counter.buckets[bisect.bisect_left(LATENCY_BOUNDS_MS, elapsed_ms)] += 1

    def reset(self) -> None:
        self._counters.clear()

    def snapshot(
        self,
        in_flight: Mapping[str, int],
        ages: Mapping[str, Sequence[float]] | None = None,
    ) -> dict[str, VersionStats]:
        """Counters per version, with the ages (ms) of each version's waiting requests."""
        ages = ages or {}
        versions = set(self._counters) | {v for v, n in in_flight.items() if n} | set(ages)
        result = {}
        for version in sorted(versions):
            counter = self._counters.get(version) or _Counter()
            waiting = [0] * (len(LATENCY_BOUNDS_MS) + 1)
            for age in ages.get(version, ()):
                waiting[bisect.bisect_left(LATENCY_BOUNDS_MS, age)] += 1
            result[version] = VersionStats(
                requests=counter.requests,
                errors=counter.errors,
                in_flight=in_flight.get(version, 0),
                latency_sum_ms=counter.sum_ms,
                buckets=tuple(counter.buckets),
                timeouts=counter.timeouts,
                connect_errors=counter.connect_errors,
                in_flight_buckets=tuple(waiting),
            )
        return result
