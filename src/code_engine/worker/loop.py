"""The worker loop: ticks the controller of every environment CODE has deployed to.

Per tick it lists the managed environments, gives each its controller (created once, with
the targets the worker was given), and runs it; one environment's failure is retried
after `RETRY_SECONDS` without stopping the others. The targets are injected: `Worker`
takes a registry (target kind -> opener); `default_targets` builds the real one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from code_engine.clock import Clock, utc_now
from code_engine.deploy import environments as envs
from code_engine.deploy.controller import lease
from code_engine.deploy.controller.environment import ControllerConfig, EnvironmentController
from code_engine.deploy.controller.local_target import LocalOptions, ProviderFactory, local_opener
from code_engine.deploy.controller.target import TargetOpener
from code_engine.deploy.gitrepo import open_repository
from code_engine.deploy.kubernetes.argocd import ArgoCD
from code_engine.deploy.kubernetes.controller import GitOpsController
from code_engine.deploy.kubernetes.delivery import Delivery, GitDelivery
from code_engine.deploy.kubernetes.state import KUBERNETES
from code_engine.deploy.local.identity import InstanceUser
from code_engine.deploy.local.launcher import SecretSource
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
    secrets: SecretSource | None = None  # resolves services' `secrets:`; None: none can run
    argocd: Callable[[], ArgoCD | None] = lambda: None  # Kubernetes environments' Argo CD
    delivery: Delivery | None = None  # Kubernetes: the GitOps pushes; None: the real one
    kubectl: str = ""  # Kubernetes: the kustomize to render with (CODE_KUBECTL)

    @property
    def controller(self) -> ControllerConfig:
        return ControllerConfig(self.poll, self.busy_poll, self.lease_ttl, self.reassert_interval)


def default_targets(config: WorkerConfig) -> dict[str, TargetOpener]:
    """The targets a worker drives, by kind: today the local target."""
    options = LocalOptions(
        provider_factory=config.provider_factory,
        pip_args=config.pip_args,
        instance_user=config.instance_user,
        secrets=config.secrets,
    )
    return {"local": local_opener(options)}


class Controller(Protocol):
    """The controller of one environment, whatever drives it."""

    def tick(self) -> float: ...

    def close(self) -> None: ...


@dataclass
class _Slot:
    controller: Controller
    kind: str
    retry_at: float | None = None  # after a failure, when to try this environment again


@dataclass
class Worker:
    """Runs the controllers of every environment it holds the lease of."""

    db: Database
    config: WorkerConfig
    clock: Clock = utc_now
    owner: str = field(default_factory=lease.owner_id)
    targets: Mapping[str, TargetOpener] | None = None
    _slots: dict[str, _Slot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.targets is None:
            self.targets = default_targets(self.config)

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

    def controller(self, item: envs.ManagedEnvironment) -> Controller:
        slot = self._slots.get(item.key)
        if slot is not None and slot.kind != item.target_kind:  # code.yaml moved it
            slot.controller.close()
            slot = None
        if slot is None:
            slot = self._slots[item.key] = _Slot(self._make(item), item.target_kind)
        return slot.controller

    def _make(self, item: envs.ManagedEnvironment) -> Controller:
        config = self.config
        if item.target_kind == KUBERNETES:
            data_dir = config.data_dir
            delivery = config.delivery or GitDelivery(
                data_dir, lambda repo: open_repository(repo, data_dir), config.kubectl
            )
            return GitOpsController(
                self.db, item, self.owner, delivery, config.argocd, config.controller, self.clock
            )
        assert self.targets is not None  # noqa: S101 - set in __post_init__  # nosec B101
        return EnvironmentController(
            self.db,
            item,
            self.owner,
            self.targets,
            config.data_dir,
            config.controller,
            self.clock,
        )

    def tick(self) -> float:
        """One pass over every managed environment; returns seconds until the next pass."""
        with self.db.session() as session:
            managed = envs.managed_environments(session)
        delay = self.config.poll
        for item in managed:
            controller = self.controller(item)
            slot = self._slots[item.key]
            if slot.retry_at is not None and time.monotonic() < slot.retry_at:
                continue
            try:
                delay = min(delay, controller.tick())
                slot.retry_at = None
            except Exception:  # one environment's failure must not stop the others
                log.exception("controller failed; retrying", environment=item.key)
                slot.retry_at = time.monotonic() + RETRY_SECONDS
        return max(delay, 0.05)

    def close(self) -> None:
        """Stop supervising and give every lease back; instances and routers keep running."""
        for slot in self._slots.values():
            slot.controller.close()


def start_worker_thread(
    db: Database, config: WorkerConfig
) -> tuple[threading.Thread, threading.Event]:
    """Run a worker on a daemon thread (inside `codectl server`); set the event to stop it."""
    stop = threading.Event()
    worker = Worker(db, config)
    thread = threading.Thread(target=worker.run, args=(stop,), name="code-worker", daemon=True)
    thread.start()
    return thread, stop
