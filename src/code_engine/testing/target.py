"""`FakeTarget`: the controller's `Target` in memory, with traffic a test describes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from code_engine.deploy.controller.target import Observed, Reconciled, TargetSite
from code_engine.deploy.plan import Launch
from code_engine.deploy.rollout import InstanceState, MetricSample


@dataclass(frozen=True)
class Traffic:
    """What every window of a version measures: requests, 5xx, p95 latency."""

    requests: float = 1000.0
    errors: float = 0.0
    p95_ms: float = 10.0


@dataclass
class FakeTarget:
    """Versions as states in memory. A started version is STARTING for `start_ticks`
    observations, then READY (or CRASHED when listed in `crashing`); a stopped one is gone.
    `traffic` says what a version's windows measure (default: healthy traffic)."""

    site: TargetSite
    start_ticks: int = 1
    crashing: set[str] = field(default_factory=set)
    traffic: dict[str, Traffic] = field(default_factory=dict)
    running: dict[str, InstanceState] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=dict)
    previewing: str | None = None
    log: list[str] = field(default_factory=list)
    closed: bool = False
    _starting: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"fake://{self.site.service}/{self.site.environment}"

    @property
    def preview_url(self) -> str:
        return self.url + "/preview"

    def observe(self, launches: Mapping[str, Launch], versions: Sequence[str]) -> Observed:  # noqa: ARG002 - states are the fake's own
        for version, left in list(self._starting.items()):
            if left <= 0:
                del self._starting[version]
                crashed = version in self.crashing
                self.running[version] = InstanceState.CRASHED if crashed else InstanceState.READY
            else:
                self._starting[version] = left - 1
        health = {v: self.running.get(v, InstanceState.ABSENT) for v in versions}
        return Observed(health, dict(self.weights))

    def start(self, launch: Launch) -> None:
        if launch.version in self.running:
            return
        self.log.append(f"start {launch.version}")
        self.running[launch.version] = InstanceState.STARTING
        self._starting[launch.version] = self.start_ticks

    def restart(self, version: str) -> None:
        self.log.append(f"restart {version}")

    def stop(self, version: str) -> None:
        self.log.append(f"stop {version}")
        self.running.pop(version, None)
        self._starting.pop(version, None)

    def weigh(self, weights: Mapping[str, int]) -> None:
        self.log.append("weigh " + " ".join(f"{v}={w}" for v, w in sorted(weights.items())))
        self.weights = dict(weights)

    def preview(self, version: str | None) -> None:
        self.previewing = version

    def reset_stats(self, version: str, at: datetime) -> None:  # noqa: ARG002 - nothing kept
        return

    def measure(self, version: str, since: datetime, until: datetime, probe: bool) -> MetricSample:  # noqa: ARG002 - every look sees the same
        seen = self.traffic.get(version, Traffic())
        return MetricSample(version, since, until, seen.requests, seen.errors, seen.p95_ms)

    def check(self) -> None:
        return

    def reassert(self, version: str) -> list[str]:
        if {v: w for v, w in self.weights.items() if w} == {version: 100}:
            return []
        self.weights = {version: 100}
        return ["weights"]

    def reconcile(self, owned: Collection[str]) -> Reconciled:
        stopped = sorted(set(self.running) - set(owned))
        unrouted = sorted(set(self.weights) - set(owned))
        for version in sorted({*stopped, *unrouted}):
            self.log.append(f"orphan {version}")
            self.running.pop(version, None)
            self._starting.pop(version, None)
            self.weights.pop(version, None)
        return Reconciled(tuple(stopped), tuple(unrouted))

    def close(self) -> None:
        self.closed = True


class FakeTargets:
    """A target registry entry that opens one `FakeTarget` per environment and keeps it
    (what a real target keeps in processes survives a controller that is dropped)."""

    def __init__(
        self,
        start_ticks: int = 1,
        crashing: Collection[str] = (),
        traffic: Mapping[str, Traffic] | None = None,
    ) -> None:
        self.start_ticks, self.crashing = start_ticks, set(crashing)
        self.traffic = dict(traffic or {})
        self.opened: dict[str, FakeTarget] = {}

    def __call__(self, site: TargetSite) -> FakeTarget:
        key = f"{site.service}/{site.environment}"
        target = self.opened.get(key)
        if target is None:
            target = FakeTarget(site, self.start_ticks, self.crashing, self.traffic)
            self.opened[key] = target
        target.closed = False
        return target
