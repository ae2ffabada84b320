"""The controller of one service environment: per tick, hold the environment's lease,
observe its target, `decide`, persist the decision (fenced by the lease), and act.

Nothing is kept in memory that a restarted controller cannot rebuild from the database
and the target. Between rollouts, every `reassert_interval` the target is made to route
as the last succeeded deployment left it. At start and after every rollout, it is
reconciled with the database: whatever runs or is routed there that no deployment owns
(the leftovers of a crash between a start and its record, of a restored database, of a
race) is stopped and unrouted.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from code_engine.clock import Clock, utc_now
from code_engine.deploy import environments as envs
from code_engine.deploy import restarts
from code_engine.deploy.controller import lease
from code_engine.deploy.controller.persist import (
    Loaded,
    fail_at_once,
    load,
    note_error,
    persist,
)
from code_engine.deploy.controller.target import Target, TargetOpener, TargetSite
from code_engine.deploy.plan import Launch, RouterPlan
from code_engine.deploy.rollout import (
    BlueGreen,
    DrainAndStop,
    EnsureStable,
    Measure,
    MetricSample,
    Observations,
    ResetStats,
    SetWeights,
    StartCanary,
    WorldAction,
    decide,
)
from code_engine.deploy.router import RouterError
from code_engine.errors import CodeError
from code_engine.observe.logging import get_logger
from code_engine.store.engine import Database

log = get_logger(__name__)
events = get_logger("code_engine.deploy")
LOCAL = "local"


@dataclass(frozen=True)
class ControllerConfig:
    poll: float = 0.5  # seconds between ticks when nothing is due earlier
    busy_poll: float = 0.2  # after world actions, look again this soon
    lease_ttl: timedelta = timedelta(seconds=15)
    reassert_interval: float = 5.0  # seconds between two checks of a router's routing


@dataclass(frozen=True)
class Plan:
    """What the database says about the environment at the start of a tick."""

    router: RouterPlan | None  # None: nothing should run here
    active_id: int | None  # the deployment in flight, if any
    serving: str | None  # the version of the latest run or succeeded deployment
    target_kind: str = LOCAL
    serving_id: int | None = None  # the deployment that `serving` comes from


@dataclass
class EnvironmentController:
    """Drives the deployments of one environment through its target."""

    db: Database
    managed: envs.ManagedEnvironment
    owner: str
    targets: Mapping[str, TargetOpener]
    data_dir: Path
    config: ControllerConfig = field(default_factory=ControllerConfig)
    clock: Clock = utc_now
    target: Target | None = None
    lease_until: datetime | None = None
    samples: dict[int, MetricSample] = field(default_factory=dict)
    check_at: float = 0.0  # when to compare the router with what it should do next
    reconcile_due: bool = True  # at start, and after every rollout

    @property
    def lease_name(self) -> str:
        return f"deploy:{self.managed.key}"

    def tick(self) -> float:
        """One pass; returns seconds until the next one is due."""
        now = self.clock()
        if not self._hold(now):
            self.drop()
            return self.config.poll
        plan = self._plan()
        if plan.router is None:
            return self.config.poll
        target = self._open(plan)
        if plan.active_id is None:
            owned = set() if plan.serving is None else {plan.serving}
            if plan.serving is not None and self._check_due():
                self._reassert(target, plan.serving)
            if self.reconcile_due:
                self._reconcile(target, owned)
            if plan.serving is not None and plan.serving_id is not None:
                self._restart_if_asked(target, plan.serving_id, plan.serving, now)
            return self.config.poll
        if self._check_due():
            target.check()
        return self._drive(target, plan.active_id, now)

    def _plan(self) -> Plan:
        item = self.managed
        with self.db.session() as session:
            active = envs.active_deployment(session, item.service_id, item.environment_id)
            if not envs.is_run(active):
                active = None
            latest = active or envs.current_deployment(
                session, item.service_id, item.environment_id
            )
            if not envs.is_run(latest):
                return Plan(None, None, None)
            return Plan(
                RouterPlan.from_dict(latest.state["router"]),
                None if active is None else active.id,
                latest.version,
                str(latest.state.get("target", LOCAL)),
                latest.id,
            )

    def _open(self, plan: Plan) -> Target:
        if self.target is not None:
            return self.target
        item = self.managed
        opener = self.targets.get(plan.target_kind)
        try:
            if opener is None:
                raise CodeError(f"no target of kind {plan.target_kind!r} in this worker")
            router = plan.router or RouterPlan()
            site = TargetSite(item.service, item.environment, self.data_dir, router)
            self.target = opener(site)
        except (RouterError, CodeError, OSError) as exc:
            if plan.active_id is not None:  # say why the deployment does not move
                message = f"cannot run {item.key}: {exc}"
                with self.db.session() as session:
                    if getattr(exc, "retryable", True) is False:  # e.g. its port is taken
                        now = self.clock()
                        fail_at_once(session, plan.active_id, "router cannot start", message, now)
                    else:
                        note_error(session, plan.active_id, message)
            raise
        return self.target

    def _check_due(self) -> bool:
        """True once every `reassert_interval`."""
        now = time.monotonic()
        if now < self.check_at:
            return False
        self.check_at = now + self.config.reassert_interval
        return True

    def _where(self) -> dict[str, str]:
        return {"service": self.managed.service, "environment": self.managed.environment}

    def _reassert(self, target: Target, version: str) -> None:
        """Make the target route as the last succeeded deployment left it."""
        try:
            repaired = target.reassert(version)
        except (RouterError, OSError) as exc:
            events.warning(
                "router_reassert_failed", **self._where(), version=version, error=str(exc)
            )
            return
        if repaired:
            events.warning(
                "router_reasserted",
                **self._where(),
                version=version,
                repaired=repaired,
                url=target.url,
            )

    def _restart_if_asked(
        self, target: Target, deployment_id: int, version: str, now: datetime
    ) -> None:
        """Take the restart requests of the serving deployment (`codectl restart`)."""
        with self.db.session() as session:
            asked = restarts.pending_restarts(session, deployment_id)
            if not asked or not lease.holds(session, self.lease_name, self.owner, now):
                return
            for row in asked:
                row.consumed_at = now
            by = sorted({row.principal for row in asked})
        target.restart(version)
        events.info("instances_restart", **self._where(), version=version, requested_by=by)

    def _reconcile(self, target: Target, owned: set[str]) -> None:
        """Stop what runs or is routed here that no deployment owns."""
        try:
            done = target.reconcile(owned)
        except (RouterError, CodeError, OSError) as exc:
            events.warning("orphans_reconcile_failed", **self._where(), error=str(exc))
            return
        self.reconcile_due = False
        where = {**self._where(), "owned": sorted(owned)}
        if done.stopped:  # processes nobody owned: a crash, a restored database
            events.warning("orphans_stopped", **where, versions=list(done.stopped))
        if done.unrouted:  # mostly the weight-0 entry a finished rollout leaves
            events.info("routes_pruned", **where, versions=list(done.unrouted))

    def _drive(self, target: Target, deployment_id: int, now: datetime) -> float:
        with self.db.session() as session:
            loaded = load(session, deployment_id)
        state = loaded.rollout
        if self.reconcile_due:  # at start: what this deployment does not own goes
            owned = {v for v in (state.canary_version, state.stable_version) if v is not None}
            self._reconcile(target, owned)
        versions = [v for v in (state.canary_version, state.stable_version) if v is not None]
        seen = target.observe(loaded.launches, versions)
        observations = Observations(
            canary=seen.of(state.canary_version),
            stable=seen.of(state.stable_version),
            canary_failure=None
            if state.canary_version is None
            else seen.failures.get(state.canary_version),
            weights=None if seen.weights is None else dict(seen.weights),
            sample=self.samples.get(deployment_id),
            commands=tuple(command for _, command in loaded.commands),
        )
        decision = decide(state, observations, now)
        if decision.state != state or decision.record_actions or loaded.commands:
            with self.db.session() as session:
                if not lease.holds(session, self.lease_name, self.owner, now):
                    self.lease_until = None
                    return self.config.poll
                consumed = [command_id for command_id, _ in loaded.commands]
                extra = {"url": target.url, "errors": dict(seen.errors)}
                if isinstance(state.spec.strategy, BlueGreen):
                    extra["preview_url"] = target.preview_url
                persist(session, loaded, decision, consumed, now, extra)
        target.preview(decision.state.preview_version)
        analysis = decision.state.analysis
        pending_until = None if analysis is None else analysis.pending_until
        for action in decision.world_actions:
            try:
                sample = apply(target, action, loaded, pending_until)
            except (RouterError, CodeError, OSError) as exc:
                log.warning(
                    "action failed", deployment=deployment_id, action=str(action), error=str(exc)
                )
                break
            if sample is not None:
                self.samples[deployment_id] = sample
        if decision.state.status.terminal:
            self.samples.pop(deployment_id, None)
            self.reconcile_due = True  # once its drain and stop are done
            return self.config.busy_poll
        if decision.world_actions:
            return self.config.busy_poll
        wakeup = decision.wakeup
        if wakeup is None:
            return self.config.poll
        return min(self.config.poll, (wakeup - self.clock()).total_seconds())

    def _hold(self, now: datetime) -> bool:
        """Hold the environment's lease, renewing it when half of it has passed."""
        ttl = self.config.lease_ttl
        if self.lease_until is not None and self.lease_until - now > ttl / 2:
            return True
        with self.db.session() as session:
            held = lease.acquire(session, self.lease_name, self.owner, now, ttl)
        if held and self.lease_until is None:
            self.reconcile_due = True  # newly taken over: reconcile before acting
        self.lease_until = now + ttl if held else None
        return held

    def drop(self) -> None:
        """Stop watching the target (another controller holds the environment now)."""
        if self.target is not None:
            self.target.close()
            self.target = None
        self.samples.clear()

    def close(self) -> None:
        """Stop watching and give the lease back; what runs keeps running."""
        self.drop()
        if self.lease_until is not None:
            with self.db.session() as session:
                lease.release(session, self.lease_name, self.owner)
            self.lease_until = None


def apply(
    target: Target, action: WorldAction, loaded: Loaded, pending_until: datetime | None
) -> MetricSample | None:
    """Apply one world action to the target; a Measure returns its sample."""
    launches: Mapping[str, Launch] = loaded.launches
    if isinstance(action, StartCanary | EnsureStable):
        target.start(launches[action.version])
    elif isinstance(action, SetWeights):
        target.weigh(dict(action.weights))
    elif isinstance(action, ResetStats):
        target.reset_stats(action.version, action.token)
    elif isinstance(action, Measure):
        probe = action.until != pending_until  # fail-fast look at the open window
        return target.measure(action.version, action.since, action.until, probe)
    elif isinstance(action, DrainAndStop):
        target.stop(action.version)
    return None
