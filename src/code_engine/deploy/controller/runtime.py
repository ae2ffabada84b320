"""One environment of the local target as the controller drives it: its supervised
instances, its router, its metric provider and the slow jobs running against them."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from code_engine.deploy.controller.jobs import Jobs
from code_engine.deploy.controller.observe import backends_for, version_state
from code_engine.deploy.controller.routers import open_router
from code_engine.deploy.controller.routerstats import RouterStatsProvider
from code_engine.deploy.local import InstanceInfo, LaunchSpec, Supervisor, build_release
from code_engine.deploy.local.identity import InstanceUser
from code_engine.deploy.plan import Launch, RouterPlan
from code_engine.deploy.rollout import (
    DrainAndStop,
    EnsureStable,
    InstanceState,
    Measure,
    MetricError,
    MetricProvider,
    MetricSample,
    ResetStats,
    SetWeights,
    StartCanary,
    StartFailure,
    WorldAction,
)
from code_engine.deploy.router import RouterError, TrafficRouter
from code_engine.observe.logging import get_logger

log = get_logger(__name__)


class Unknown(enum.Enum):
    """What the router does is not known (yet)."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN
ProviderFactory = Callable[[TrafficRouter, str], MetricProvider]
DRAIN_TIMEOUT = 30.0
RESTART_PAUSE = 3.0  # between two attempts to start a stable version that failed


class EnvironmentRuntime:
    """Processes and traffic of one service environment; thread-safe for one controller."""

    def __init__(
        self,
        service: str,
        environment: str,
        data_dir: Path,
        router_plan: RouterPlan,
        *,
        provider_factory: ProviderFactory | None = None,
        pip_args: Sequence[str] = (),
        monitor_interval: float = 1.0,
        instance_user: InstanceUser | None = None,
    ) -> None:
        self.service, self.environment, self.data_dir = service, environment, data_dir
        self.plan = router_plan
        self.pip_args = tuple(pip_args)
        self.supervisor = Supervisor(service, environment, data_dir, user=instance_user)
        self.supervisor.adopt()
        self.supervisor.start_monitor(monitor_interval)
        opened = open_router(data_dir, service, environment, router_plan)
        self.router, self.url, self.preview_url = opened.router, opened.url, opened.preview_url
        self.provider: MetricProvider = (
            provider_factory(self.router, service)
            if provider_factory is not None
            else RouterStatsProvider(self.router)
        )
        # the router answers from memory; Prometheus gets a query less often
        self.probe_gap = 0.0 if isinstance(self.provider, RouterStatsProvider) else 5.0
        self.jobs = Jobs()
        self._closing = threading.Event()
        self._backends: dict[str, list[str]] | None = None  # as last given to the router
        self._preview: str | None | Unknown = UNKNOWN
        self._probe: tuple[float, MetricSample] | None = None
        self._versions_seen: set[str] = set()

    # -- observing --------------------------------------------------------------------
    def instances(self) -> list[InstanceInfo]:
        return self.supervisor.instances()

    def state_of(
        self, version: str | None, infos: Sequence[InstanceInfo], launches: Mapping[str, Launch]
    ) -> InstanceState:
        """The rollout's view of a version: ABSENT, STARTING, READY or CRASHED."""
        if version is None:
            return InstanceState.ABSENT
        launch = launches.get(version)
        expected = launch.instances if launch is not None else 1
        starting = self.jobs.running(("start", version))
        failure = self.jobs.failure(("start", version))
        failed = failure is not None and not failure.retryable  # else it is tried again
        return version_state(
            version, infos, expected, starting=starting or failure is not None, failed=failed
        )

    def start_failure(self, version: str | None) -> StartFailure | None:
        """Why `version` cannot start, when trying again will not help."""
        failure = None if version is None else self.jobs.failure(("start", version))
        if failure is None or failure.retryable:
            return None
        return StartFailure(failure.kind, failure.summary or failure.error[:500])

    def errors(self) -> dict[str, str]:
        """The last failure of starting each version (a build or a command that failed)."""
        found = {}
        for version in self._versions_seen:
            failure = self.jobs.failure(("start", version))
            if failure is not None:
                found[version] = failure.error[-2000:]
        return found

    def weights(self) -> dict[str, int] | None:
        """The weights the router applies, or None when it cannot be asked (it is restarted)."""
        try:
            return self.router.get_weights()
        except RouterError as exc:
            log.warning(
                "router not answering",
                service=self.service,
                environment=self.environment,
                error=str(exc),
            )
            self.reopen_router()
            return None

    def sync_backends(
        self, infos: Sequence[InstanceInfo], weights: Mapping[str, int] | None
    ) -> None:
        """Give the router the ready instances of every version (keeping the last known
        ones of a version that still has weight, which the controller is moving away)."""
        desired = backends_for(infos, weights or {}, self._backends or {})
        if desired == self._backends:
            return
        try:
            self.router.set_backends(desired)
        except RouterError as exc:
            log.warning("router refused backends", backends=desired, error=str(exc))
            return
        self._backends = desired

    def sync_preview(self, version: str | None) -> None:
        """Point the router's preview port at `version` (None: nothing under preview)."""
        if self._preview == version:
            return
        try:
            self.router.set_preview(version)
        except RouterError as exc:
            log.warning("router refused preview", version=version, error=str(exc))
            return
        self._preview = version

    def check_router(self) -> bool:
        """Whether the router still has the backends and preview given to it; if not (it
        restarted without its state, or is gone), they are given again on the next tick."""
        try:
            backends = self.router.get_backends()
            preview = self.router.get_preview()
        except RouterError as exc:
            log.warning(
                "router not answering",
                service=self.service,
                environment=self.environment,
                error=str(exc),
            )
            self.reopen_router()
            return False
        kept = self._backends in (None, backends) and self._preview in (UNKNOWN, preview)
        if not kept:
            self._backends, self._preview = None, UNKNOWN
        return kept

    def reassert(self, version: str, infos: Sequence[InstanceInfo]) -> list[str]:
        """Route as a finished deployment of `version` left things: all traffic to it, the
        ready instances as backends, nothing under preview. Returns what was repaired
        (empty when the router already routed so); router errors propagate."""
        repaired = []
        try:
            live = self.router.get_backends()
        except RouterError:
            self.reopen_router()  # starts the router again when it is gone
            repaired.append("router")
            live = self.router.get_backends()
        wanted = {version: 100}
        backends = backends_for(infos, wanted, live)
        if backends != live:
            self.router.set_backends(backends)
            repaired.append("backends")
        self._backends = backends
        if not self.router.verify_weights(wanted):
            self.router.set_weights(wanted)
            repaired.append("weights")
        if self.router.get_preview() is not None:
            self.router.set_preview(None)
            repaired.append("preview")
        self._preview = None
        return repaired

    def reopen_router(self) -> None:
        try:
            opened = open_router(self.data_dir, self.service, self.environment, self.plan)
        except RouterError as exc:
            log.warning(
                "cannot start the router",
                service=self.service,
                environment=self.environment,
                error=str(exc),
            )
        else:
            self.router, self.url, self.preview_url = opened.router, opened.url, opened.preview_url
        if isinstance(self.provider, RouterStatsProvider):
            self.provider.router = self.router
        self._backends, self._preview = None, UNKNOWN

    # -- acting -----------------------------------------------------------------------
    def apply(
        self, action: WorldAction, launches: Mapping[str, Launch], pending_until: datetime | None
    ) -> MetricSample | None:
        """Apply one world action; a Measure returns its sample. Router errors propagate."""
        if isinstance(action, StartCanary | EnsureStable):
            self._start(launches[action.version])
        elif isinstance(action, SetWeights):
            try:
                self.router.set_weights(dict(action.weights))
            except RouterError:
                self._backends = None  # e.g. it lost them: give them again next tick
                raise
        elif isinstance(action, ResetStats):
            self._reset(action)
        elif isinstance(action, Measure):
            return self._measure(action, pending_until)
        elif isinstance(action, DrainAndStop):
            self._stop(action.version)
        return None

    def _start(self, launch: Launch) -> None:
        self._versions_seen.add(launch.version)
        key = ("start", launch.version)
        failure = self.jobs.failure(key)
        if failure is not None and time.monotonic() - failure.at < RESTART_PAUSE:
            return
        self.jobs.start(key, lambda: self._build_and_start(launch), f"start {launch.version}")

    def _build_and_start(self, launch: Launch) -> None:
        artifact = build_release(
            Path(launch.repo),
            launch.sha,
            launch.version,
            service=self.service,
            data_dir=self.data_dir,
            pip_args=self.pip_args,
        )
        self.supervisor.start(
            LaunchSpec(
                version=launch.version,
                command=launch.command,
                cwd=artifact.path,
                instances=launch.instances,
                env=dict(launch.env),
                health_path=launch.health_path,
                python=str(artifact.python),
                ready_timeout=launch.ready_timeout,
                stop_grace=launch.stop_grace,
            )
        )

    def _stop(self, version: str) -> None:
        def drain_and_stop() -> None:
            if self.plan.scale_down_delay > 0 and self._closing.wait(self.plan.scale_down_delay):
                return
            try:
                self.router.wait_idle(version, DRAIN_TIMEOUT)
            except RouterError as exc:
                log.warning("cannot drain", version=version, error=str(exc))
            self.supervisor.stop(version)
            self.jobs.clear(("start", version))

        self.jobs.start(("stop", version), drain_and_stop, f"stop {version}")

    def _reset(self, action: ResetStats) -> None:
        if isinstance(self.provider, RouterStatsProvider):
            self.provider.reset(action.version, action.token)

    def _measure(self, action: Measure, pending_until: datetime | None) -> MetricSample:
        probe = action.until != pending_until  # fail-fast look at the open window
        cached = self._probe
        if probe and cached is not None and time.monotonic() - cached[0] < self.probe_gap:
            sample = cached[1]
            if (sample.version, sample.since) == (action.version, action.since):
                return sample
        try:
            sample = self.provider.sample(action.version, action.since, action.until)
        except MetricError as exc:
            sample = MetricSample.failed(action.version, action.since, action.until, str(exc))
        if probe:
            self._probe = (time.monotonic(), sample)
        return sample

    def close(self) -> None:
        """Stop watching; instances and the router keep running for the next controller."""
        self._closing.set()
        self.supervisor.close()
