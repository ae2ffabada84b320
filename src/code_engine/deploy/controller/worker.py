"""The worker: one loop that supervises every managed environment and drives its rollout.

Per tick and environment: take or renew the environment's lease, observe instances and
router weights, `decide`, persist the decision (fenced by the lease), point the router's
preview port at the version under preview, and apply the decision's world actions.
Nothing is kept in memory that a restarted worker cannot rebuild from the database, the
supervisor's state files and the router.

Between rollouts, every `reassert_interval` the router of each environment is compared
with what the last succeeded deployment left there (all traffic to its version, nothing
under preview) and repaired when it differs — e.g. a router that restarted without its
state file, or a dead router process, which is started again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from code_engine.clock import Clock, utc_now
from code_engine.deploy import environments as envs
from code_engine.deploy.controller import lease
from code_engine.deploy.controller.persist import fail_at_once, load, note_error, persist
from code_engine.deploy.controller.runtime import EnvironmentRuntime, ProviderFactory
from code_engine.deploy.local.identity import InstanceUser
from code_engine.deploy.plan import RouterPlan
from code_engine.deploy.rollout import BlueGreen, MetricSample, Observations, decide
from code_engine.deploy.router import RouterError
from code_engine.errors import CodeError
from code_engine.observe.logging import get_logger
from code_engine.store.engine import Database

log = get_logger(__name__)
RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class WorkerConfig:
    data_dir: Path
    poll: float = 0.5  # seconds between ticks when nothing is due earlier
    busy_poll: float = 0.2  # after world actions, look again this soon
    lease_ttl: timedelta = timedelta(seconds=15)
    provider_factory: ProviderFactory | None = None
    pip_args: tuple[str, ...] = ()
    reassert_interval: float = 5.0  # seconds between two checks of a router's routing
    instance_user: InstanceUser | None = None  # local instances' user; None: the worker's


@dataclass
class _Environment:
    managed: envs.ManagedEnvironment
    runtime: EnvironmentRuntime | None = None
    lease_until: datetime | None = None
    samples: dict[int, MetricSample] = field(default_factory=dict)
    retry_at: float | None = None  # after a failure, when to try this environment again
    check_at: float = 0.0  # when to compare the router with what it should do next

    @property
    def lease_name(self) -> str:
        return f"deploy:{self.managed.key}"


class Worker:
    """Runs the controllers of every environment it holds the lease of."""

    def __init__(
        self, db: Database, config: WorkerConfig, clock: Clock = utc_now, owner: str | None = None
    ) -> None:
        self.db, self.config, self.clock = db, config, clock
        self.owner = owner or lease.owner_id()
        self._envs: dict[str, _Environment] = {}

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` is set, then let go of every lease."""
        try:
            while not stop.is_set():
                try:
                    delay = self.tick()
                except Exception:  # e.g. the database is away: keep trying
                    log.exception("worker tick failed; retrying")
                    delay = RETRY_SECONDS
                stop.wait(delay)
        finally:
            self.close()

    def tick(self) -> float:
        """One pass over every managed environment; returns seconds until the next pass."""
        with self.db.session() as session:
            managed = envs.managed_environments(session)
        delay = self.config.poll
        for item in managed:
            env = self._envs.setdefault(item.key, _Environment(item))
            if env.retry_at is not None and time.monotonic() < env.retry_at:
                continue
            try:
                delay = min(delay, self._tick_environment(env))
                env.retry_at = None
            except Exception:  # one environment's failure must not stop the others
                log.exception("controller failed; retrying", environment=item.key)
                env.retry_at = time.monotonic() + RETRY_SECONDS
        return max(delay, 0.05)

    def _tick_environment(self, env: _Environment) -> float:
        now = self.clock()
        if not self._hold(env, now):
            self._drop(env)
            return self.config.poll
        item = env.managed
        with self.db.session() as session:
            active = envs.active_deployment(session, item.service_id, item.environment_id)
            if not envs.is_run(active):
                active = None
            latest = active or envs.current_deployment(
                session, item.service_id, item.environment_id
            )
            plan = RouterPlan.from_dict(latest.state["router"]) if envs.is_run(latest) else None
            active_id = None if active is None else active.id
            serving = None if latest is None else latest.version
        if plan is None:
            return self.config.poll  # nothing should run here
        if env.runtime is None:
            try:
                env.runtime = EnvironmentRuntime(
                    item.service,
                    item.environment,
                    self.config.data_dir,
                    plan,
                    provider_factory=self.config.provider_factory,
                    pip_args=self.config.pip_args,
                    instance_user=self.config.instance_user,
                )
            except (RouterError, CodeError, OSError) as exc:
                if active_id is not None:  # say why the deployment does not move
                    with self.db.session() as session:
                        message = f"cannot run {item.key}: {exc}"
                        if getattr(exc, "retryable", True) is False:
                            fail_at_once(session, active_id, "router cannot start", message, now)
                        else:
                            note_error(session, active_id, message)
                raise
        if active_id is None:
            if serving is not None and self._check_due(env):
                self._reassert(env, env.runtime, serving)
            return self.config.poll
        if self._check_due(env):
            env.runtime.check_router()
        return self._drive(env, env.runtime, active_id, now)

    def _check_due(self, env: _Environment) -> bool:
        """True once every `reassert_interval` per environment."""
        now = time.monotonic()
        if now < env.check_at:
            return False
        env.check_at = now + self.config.reassert_interval
        return True

    def _reassert(self, env: _Environment, runtime: EnvironmentRuntime, version: str) -> None:
        """Make the router route as the last succeeded deployment left it."""
        where = {"service": env.managed.service, "environment": env.managed.environment}
        try:
            repaired = runtime.reassert(version, runtime.instances())
        except (RouterError, OSError) as exc:
            log.warning("router_reassert_failed", **where, version=version, error=str(exc))
            return
        if repaired:
            log.warning(
                "router_reasserted", **where, version=version, repaired=repaired, url=runtime.url
            )

    def _drive(
        self, env: _Environment, runtime: EnvironmentRuntime, deployment_id: int, now: datetime
    ) -> float:
        with self.db.session() as session:
            loaded = load(session, deployment_id)
        state = loaded.rollout
        infos = runtime.instances()
        weights = runtime.weights()
        runtime.sync_backends(infos, weights)
        observations = Observations(
            canary=runtime.state_of(state.canary_version, infos, loaded.launches),
            stable=runtime.state_of(state.stable_version, infos, loaded.launches),
            weights=weights,
            sample=env.samples.get(deployment_id),
            commands=tuple(command for _, command in loaded.commands),
            canary_failure=runtime.start_failure(state.canary_version),
        )
        decision = decide(state, observations, now)
        if decision.state != state or decision.record_actions or loaded.commands:
            with self.db.session() as session:
                if not lease.holds(session, env.lease_name, self.owner, now):
                    env.lease_until = None
                    return self.config.poll
                consumed = [command_id for command_id, _ in loaded.commands]
                extra = {"url": runtime.url, "errors": runtime.errors()}
                if isinstance(state.spec.strategy, BlueGreen):
                    extra["preview_url"] = runtime.preview_url
                persist(session, loaded, decision, consumed, now, extra)
        runtime.sync_preview(decision.state.preview_version)
        analysis = decision.state.analysis
        pending_until = None if analysis is None else analysis.pending_until
        for action in decision.world_actions:
            try:
                sample = runtime.apply(action, loaded.launches, pending_until)
            except (RouterError, CodeError, OSError) as exc:
                log.warning(
                    "action failed", deployment=deployment_id, action=repr(action), error=str(exc)
                )
                break
            if sample is not None:
                env.samples[deployment_id] = sample
        if decision.state.status.terminal:
            env.samples.pop(deployment_id, None)
            return self.config.busy_poll
        if decision.world_actions:
            return self.config.busy_poll
        wakeup = decision.wakeup
        if wakeup is None:
            return self.config.poll
        return min(self.config.poll, (wakeup - self.clock()).total_seconds())

    def _hold(self, env: _Environment, now: datetime) -> bool:
        """Hold the environment's lease, renewing it when half of it has passed."""
        ttl = self.config.lease_ttl
        if env.lease_until is not None and env.lease_until - now > ttl / 2:
            return True
        with self.db.session() as session:
            held = lease.acquire(session, env.lease_name, self.owner, now, ttl)
        env.lease_until = now + ttl if held else None
        return held

    def _drop(self, env: _Environment) -> None:
        if env.runtime is not None:
            env.runtime.close()
            env.runtime = None
        env.samples.clear()

    def close(self) -> None:
        """Stop supervising and give every lease back; instances and routers keep running."""
        for env in self._envs.values():
            self._drop(env)
            if env.lease_until is not None:
                with self.db.session() as session:
                    lease.release(session, env.lease_name, self.owner)
                env.lease_until = None


def start_worker_thread(
    db: Database, config: WorkerConfig
) -> tuple[threading.Thread, threading.Event]:
    """Run a worker on a daemon thread (inside `codectl server`); set the event to stop it."""
    stop = threading.Event()
    worker = Worker(db, config)
    thread = threading.Thread(target=worker.run, args=(stop,), name="code-worker", daemon=True)
    thread.start()
    return thread, stop
