"""The local target: the versions of one service environment as supervised processes on
this machine, behind the environment's router, with canary metrics from that router (or a
provider such as Prometheus), and the slow jobs (build, start, drain, stop) on threads."""

from __future__ import annotations

import enum
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from code_engine.deploy.controller.jobs import Jobs
from code_engine.deploy.controller.observe import backends_for, version_state
from code_engine.deploy.controller.routerstats import RouterStatsProvider
from code_engine.deploy.controller.routing import (
    ROUTERS,
    RouteChange,
    Router,
    RouterOpener,
    open_router,
)
from code_engine.deploy.controller.target import Observed, Reconciled, TargetOpener, TargetSite
from code_engine.deploy.local import InstanceInfo, LaunchSpec, Supervisor, build_release
from code_engine.deploy.local.identity import InstanceUser
from code_engine.deploy.local.launcher import SecretSource, resolve_secrets
from code_engine.deploy.plan import Launch
from code_engine.deploy.rollout import (
    InstanceState,
    MetricError,
    MetricProvider,
    MetricSample,
    StartFailure,
)
from code_engine.deploy.router import RouterError
from code_engine.observe.logging import get_logger

log = get_logger(__name__)


class Unknown(enum.Enum):
    """What the router does is not known (yet)."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN
ProviderFactory = Callable[[Router, str], MetricProvider]
DRAIN_TIMEOUT = 30.0
RESTART_PAUSE = 3.0  # between two attempts to start a stable version that failed


@dataclass(frozen=True)
class LocalOptions:
    """How the local target runs: metrics, pip, the routers it may open, the monitor."""

    provider_factory: ProviderFactory | None = None
    pip_args: tuple[str, ...] = ()
    routers: Mapping[str, RouterOpener] = field(default_factory=lambda: dict(ROUTERS))
    monitor_interval: float = 1.0
    instance_user: InstanceUser | None = None  # whom instances run as; None: CODE's own user
    secrets: SecretSource | None = None  # resolves `secrets:`; None: a release with some fails


def local_opener(options: LocalOptions) -> TargetOpener:
    """Opens the local target of an environment with `options`."""

    def open_local(site: TargetSite) -> LocalTarget:
        return LocalTarget(site, options)

    return open_local


class LocalTarget:
    """Processes and traffic of one service environment; thread-safe for one controller."""

    def __init__(self, site: TargetSite, options: LocalOptions | None = None) -> None:
        options = options or LocalOptions()
        self.site, self.options = site, options
        self.service, self.environment, self.data_dir = (
            site.service,
            site.environment,
            site.data_dir,
        )
        self.plan = site.router
        opened = open_router(
            site.data_dir, site.service, site.environment, site.router, options.routers
        )
        self.supervisor = Supervisor(
            site.service,
            site.environment,
            site.data_dir,
            user=options.instance_user,
            secrets=options.secrets,
        )
        self.supervisor.adopt()
        self.supervisor.start_monitor(options.monitor_interval)
        self.router, self.url, self.preview_url = opened.router, opened.url, opened.preview_url
        factory = options.provider_factory
        self.provider: MetricProvider = (
            factory(self.router, site.service)
            if factory is not None
            else RouterStatsProvider(self.router)
        )
        # the router answers from memory; Prometheus gets a query less often
        self.probe_gap = 0.0 if isinstance(self.provider, RouterStatsProvider) else 5.0
        self.jobs = Jobs()
        self._closing = threading.Event()
        self._backends: dict[str, list[str]] | None = None  # as last given to the router
        self._routing = threading.Lock()  # one change of backends at a time
        self._preview: str | None | Unknown = UNKNOWN
        self._probe: tuple[float, MetricSample] | None = None
        self._versions_seen: set[str] = set()

    # -- observing --------------------------------------------------------------------
    def instances(self) -> list[InstanceInfo]:
        return self.supervisor.instances()

    def observe(self, launches: Mapping[str, Launch], versions: Sequence[str]) -> Observed:
        """Health of `versions`, the router's weights; gives the router the ready instances."""
        infos = self.instances()
        weights = self.weights()
        self.sync_backends(infos, weights)
        health = {v: self.state_of(v, infos, launches) for v in versions}
        failures = {v: f for v in versions if (f := self.start_failure(v)) is not None}
        return Observed(health, weights, self.errors(), failures)

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
            return dict(self.router.routes().weights)
        except RouterError as exc:
            self._router_lost(exc)
            return None

    def sync_backends(
        self, infos: Sequence[InstanceInfo], weights: Mapping[str, int] | None
    ) -> None:
        """Give the router the ready instances of every version (keeping the last known
        ones of a version that still has weight, which the controller is moving away)."""
        with self._routing:
            desired = backends_for(infos, weights or {}, self._backends or {})
            if desired == self._backends:
                return
            try:
                self.router.change(RouteChange(backends=desired))
            except RouterError as exc:
                log.warning("router refused backends", backends=desired, error=str(exc))
                return
            self._backends = desired

    def route_ready(self) -> None:
        """Give the router the ready instances now (a restart has swapped one); router
        errors propagate, so that the swap is undone."""
        with self._routing:
            routes = self.router.routes()
            live = {v: list(a) for v, a in routes.backends.items()}
            backends = backends_for(self.instances(), routes.weights, live)
            if backends != live:
                self.router.change(RouteChange(backends=backends))
            self._backends = backends

    def preview(self, version: str | None) -> None:
        """Point the router's preview port at `version` (None: nothing under preview)."""
        if self._preview == version:
            return
        try:
            self.router.change(RouteChange(preview=version))
        except RouterError as exc:
            log.warning("router refused preview", version=version, error=str(exc))
            return
        self._preview = version

    def check(self) -> None:
        self.check_router()

    def check_router(self) -> bool:
        """Whether the router still has the backends and preview given to it; if not (it
        restarted without its state, or is gone), they are given again on the next tick."""
        try:
            routes = self.router.routes()
        except RouterError as exc:
            self._router_lost(exc)
            return False
        backends = {v: list(a) for v, a in routes.backends.items()}
        kept = self._backends in (None, backends) and self._preview in (UNKNOWN, routes.preview)
        if not kept:
            self._backends, self._preview = None, UNKNOWN
        return kept

    def reassert(self, version: str, infos: Sequence[InstanceInfo] | None = None) -> list[str]:
        """Route as a finished deployment of `version` left things: all traffic to it, the
        ready instances as backends, nothing under preview. Returns what was repaired
        (empty when the router already routed so); router errors propagate."""
        repaired = []
        with self._routing:  # never between a restart's swap and its routing
            try:
                routes = self.router.routes()
            except RouterError:
                self.reopen_router()  # starts the router again when it is gone
                repaired.append("router")
                routes = self.router.routes()
            live = {v: list(a) for v, a in routes.backends.items()}
            wanted = {version: 100}
            infos = self.instances() if infos is None else infos
            backends = backends_for(infos, wanted, live)
            if backends != live:
                self.router.change(RouteChange(backends=backends))
                repaired.append("backends")
            self._backends = backends
        if not self.router.verify(wanted):
            self.router.change(RouteChange(weights=wanted))
            repaired.append("weights")
        if routes.preview is not None:
            self.router.change(RouteChange(preview=None))
            repaired.append("preview")
        self._preview = None
        return repaired

    def reconcile(self, owned: Collection[str]) -> Reconciled:
        """Stop the instances of versions no deployment owns and drop their routes (weight-0
        entries too); versions with a start or stop job running are left to it."""
        routes = self.router.routes()
        running = {i.version for i in self.instances()}
        found = running | set(routes.backends) | set(routes.weights)
        keep = set(owned) | {v for v in found if self._busy(v)}
        unrouted = {v for v in {*routes.backends, *routes.weights} if v not in keep}
        if unrouted:
            if any(routes.weights.get(v, 0) > 0 for v in unrouted):
                log.warning(
                    "traffic on unowned versions",
                    service=self.service,
                    environment=self.environment,
                    versions=sorted(unrouted),
                )
            weights = {v: w for v, w in routes.weights.items() if v not in unrouted}
            backends = {v: list(a) for v, a in routes.backends.items() if v not in unrouted}
            self.router.change(RouteChange(weights=weights))  # weight first: then no backends
            self.router.change(RouteChange(backends=backends))
            self._backends = backends
        stopped = sorted(running - keep)
        for version in stopped:
            self.supervisor.stop(version)
            self.jobs.clear(("start", version))
        return Reconciled(tuple(stopped), tuple(sorted(unrouted)))

    def _busy(self, version: str) -> bool:
        return self.jobs.running(("start", version)) or self.jobs.running(("stop", version))

    def _router_lost(self, exc: RouterError) -> None:
        """The router did not answer: say so and start it again (it keeps its state file)."""
        where = {"service": self.service, "environment": self.environment}
        log.warning("router not answering", **where, error=str(exc))
        self.reopen_router()

    def reopen_router(self) -> None:
        try:
            opened = open_router(
                self.data_dir, self.service, self.environment, self.plan, self.options.routers
            )
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
    def weigh(self, weights: Mapping[str, int]) -> None:
        try:
            self.router.change(RouteChange(weights=dict(weights)))
        except RouterError:
            self._backends = None  # e.g. it lost them: give them again next tick
            raise

    def start(self, launch: Launch) -> None:
        self._versions_seen.add(launch.version)
        key = ("start", launch.version)
        failure = self.jobs.failure(key)
        if failure is not None and time.monotonic() - failure.at < RESTART_PAUSE:
            return
        self.jobs.start(key, lambda: self._build_and_start(launch), f"start {launch.version}")

    def _build_and_start(self, launch: Launch) -> None:
        # every secret first: a store that is down or a missing key fails the release
        # before anything is built or started, and the message names the reference
        resolve_secrets(self._launch_spec(launch, Path()), self.options.secrets, launch.version)
        artifact = build_release(
            Path(launch.repo),
            launch.sha,
            launch.version,
            service=self.service,
            data_dir=self.data_dir,
            pip_args=self.options.pip_args,
        )
        self.supervisor.start(self._launch_spec(launch, artifact.path, str(artifact.python)))

    @staticmethod
    def _launch_spec(launch: Launch, cwd: Path, python: str = "") -> LaunchSpec:
        return LaunchSpec(
            version=launch.version,
            command=launch.command,
            cwd=cwd,
            instances=launch.instances,
            env=dict(launch.env),
            health_path=launch.health_path,
            ready_timeout=launch.ready_timeout,
            stop_grace=launch.stop_grace,
            secrets=dict(launch.secrets),
            python=python or sys.executable,
        )

    def restart(self, version: str) -> None:
        """Replace the instances of `version` one by one (in the background), so that they
        get the secret values of now: each replacement is routed once it is ready, before
        the instance it replaces is stopped. A failure is logged and leaves them running."""

        def restart_all() -> None:
            self.supervisor.restart(version, route=self.route_ready)
            log.info("instances restarted", service=self.service, version=version)

        self.jobs.start(("restart", version), restart_all, f"restart {version}")

    def stop(self, version: str) -> None:
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

    def reset_stats(self, version: str, at: datetime) -> None:
        if isinstance(self.provider, RouterStatsProvider):
            self.provider.reset(version, at)

    def measure(self, version: str, since: datetime, until: datetime, probe: bool) -> MetricSample:
        cached = self._probe
        if probe and cached is not None and time.monotonic() - cached[0] < self.probe_gap:
            sample = cached[1]
            if (sample.version, sample.since) == (version, since):
                return sample
        try:
            sample = self.provider.sample(version, since, until)
        except MetricError as exc:
            sample = MetricSample.failed(version, since, until, str(exc))
        if probe:
            self._probe = (time.monotonic(), sample)
        return sample

    def close(self) -> None:
        """Stop watching; instances and the router keep running for the next controller."""
        self._closing.set()
        self.supervisor.close()
