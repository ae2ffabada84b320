"""A service environment's traffic as its builtin router counted it.

This is the `dora.operations.RouterStatistics` of the local target: the operations report
reads a router's counters through it without knowing how a router is found or asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from code_engine.deploy.router.client import BuiltinRouter
from code_engine.deploy.router.launch import RouterLaunch
from code_engine.deploy.router.stats import LATENCY_BOUNDS_MS, VersionStats, quantile
from code_engine.dora.operations import TrafficCounters


class StatsReader(Protocol):
    """What is read of a router here: its per-version statistics."""

    def stats(self) -> Mapping[str, VersionStats]: ...

    def close(self) -> None: ...


def total(stats: Mapping[str, VersionStats]) -> TrafficCounters:
    """Every version's counters together; the p95 of their merged latency histograms (pure)."""
    buckets = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    for version in stats.values():
        buckets = [a + b for a, b in zip(buckets, version.buckets, strict=True)]
    return TrafficCounters(
        requests=sum(s.requests for s in stats.values()),
        errors=sum(s.errors for s in stats.values()),
        p95_ms=quantile(buckets, 0.95),
    )


class RouterTraffic:
    """Counters of the router that `router_for(service, environment)` reaches."""

    def __init__(self, router_for: Callable[[str, str], StatsReader]) -> None:
        self.router_for = router_for

    @classmethod
    def builtin(cls, data_dir: Path, timeout: float = 5.0) -> RouterTraffic:
        """The builtin routers the local target runs under `data_dir`."""

        def router_for(service: str, environment: str) -> BuiltinRouter:
            launch = RouterLaunch.for_environment(data_dir, service, environment, port=0)
            return BuiltinRouter(launch.control, timeout=timeout)

        return cls(router_for)

    def counters(self, service: str, environment: str) -> TrafficCounters:
        """What the router counted since its last reset; raises `RouterError` if unreachable."""
        router = self.router_for(service, environment)
        try:
            return total(router.stats())
        finally:
            router.close()
