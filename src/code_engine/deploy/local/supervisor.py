"""The local target's process supervisor: runs the instances of each release of one
service environment, restarts crashed ones, and finds them again after a restart."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from code_engine.deploy.local.backoff import RestartPolicy
from code_engine.deploy.local.errors import InstanceStartError
from code_engine.deploy.local.health import Probe, http_probe
from code_engine.deploy.local.identity import InstanceUser
from code_engine.deploy.local.launcher import (
    Launcher,
    SecretSource,
    default_base_env,
    log_marker,
    note_exit,
    resolve_secrets,
)
from code_engine.deploy.local.logfiles import (
    LogLimits,
    environment_log_dir,
    instance_log_path,
    rotate_if_needed,
    safe_name,
)
from code_engine.deploy.local.model import (
    LIVE_STATES,
    InstanceInfo,
    InstanceRecord,
    InstanceState,
    LaunchSpec,
)
from code_engine.deploy.local.monitor import PeriodicTask
from code_engine.deploy.local.ports import free_port
from code_engine.deploy.local.proc import is_same_process, reap, signal_group, stop_processes
from code_engine.deploy.local.readiness import ReadinessWait
from code_engine.deploy.local.state import load_state, save_state
from code_engine.errors import ConfigError
from code_engine.observe.logging import get_logger

log = get_logger(__name__)
Key = tuple[str, int]


class Supervisor:
    """Instances of one service environment; state in `<data_dir>/run/<service>/<env>/`.

    Every public method first adopts what a previous supervisor left (see `adopt`).
    Thread-safe: the controller calls it while `start_monitor` runs `check` periodically.
    """

    def __init__(
        self,
        service: str,
        environment: str,
        data_dir: Path,
        *,
        policy: RestartPolicy | None = None,
        log_limits: LogLimits | None = None,
        base_env: Mapping[str, str] | None = None,  # default: ours without CODE_* and PYTHON*
        probe: Probe = http_probe,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        user: InstanceUser | None = None,  # whom instances run as; None: CODE's own user
        secrets: SecretSource | None = None,  # resolves a spec's secrets at each start
    ) -> None:
        self.service, self.environment = service, environment
        self.run_dir = data_dir / "run" / safe_name(service) / safe_name(environment)
        self.state_path = self.run_dir / "instances.json"
        self.log_dir = environment_log_dir(data_dir, service, environment)
        self.policy = policy or RestartPolicy()
        self.limits = log_limits or LogLimits()
        env = default_base_env(os.environ) if base_env is None else base_env
        self.launcher = Launcher(env, self.limits, clock, user, secrets)
        self.probe, self.clock, self.sleep = probe, clock, sleep
        self._lock = threading.RLock()
        self._specs: dict[str, LaunchSpec] = {}
        self._records: dict[Key, InstanceRecord] = {}
        self._processes: dict[Key, subprocess.Popen[bytes]] = {}
        self._launching: set[str] = set()
        self._loaded = False
        self._monitor = PeriodicTask(self.check, f"supervisor {service}/{environment}")

    # -- queries -------------------------------------------------------------------------
    def instances(self, version: str | None = None) -> list[InstanceInfo]:
        with self._lock:
            self._ensure_loaded()
            records = sorted(self._records.values(), key=lambda r: r.key)
            return [r.info() for r in records if version is None or r.version == version]

    def addresses(self, version: str) -> list[str]:
        """`host:port` of the ready instances of `version` (what a router should get)."""
        ready = InstanceState.READY
        return [i.address for i in self.instances(version) if i.state is ready]

    def versions(self) -> list[str]:
        with self._lock:
            self._ensure_loaded()
            return sorted(self._specs)

    # -- adoption ------------------------------------------------------------------------
    def adopt(self) -> list[InstanceInfo]:
        """Load the state file and verify each process (pid + start time, so a reused pid
        is never mistaken): running ones are kept, dead ones are restarted by `check`."""
        with self._lock:
            state = load_state(self.state_path)
            now = self.clock()
            self._specs, self._records, self._processes = dict(state.specs), {}, {}
            for record in state.records:
                if record.state in (InstanceState.BACKOFF, InstanceState.CRASHED):
                    self._records[record.key] = record
                elif not is_same_process(record.pid, record.start_ticks):
                    if record.state is not InstanceState.STOPPING:
                        record.state, record.restart_at = InstanceState.BACKOFF, now
                        self._records[record.key] = record
                elif record.state is InstanceState.STOPPING:
                    self._terminate([record], self._grace(record.version))  # finish the stop
                else:
                    spec = self._specs.get(record.version)
                    ok = spec is not None and self.probe(record.host, record.port, spec.health_path)
                    record.state = InstanceState.READY if ok else InstanceState.STARTING
                    self._records[record.key] = record
            self._specs = {v: s for v, s in self._specs.items() if self._has(v)}
            self._loaded = True
            self._save()
        return self.instances()

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.adopt()

    # -- start / stop --------------------------------------------------------------------
    def start(self, spec: LaunchSpec) -> list[InstanceInfo]:
        """Run exactly `spec.instances` ready instances of `spec.version` (idempotent: ready
        ones are kept, missing ones started, extra ones stopped). Raises
        `InstanceStartError` (after stopping what it started) if one is not ready in time."""
        if spec.instances < 1:
            raise ConfigError(f"instances must be at least 1, got {spec.instances}")
        with self._lock:
            self._ensure_loaded()
            self._specs[spec.version] = spec
            self._launching.add(spec.version)
            started: list[InstanceRecord] = []
            try:
                for index in range(spec.instances):
                    record = self._records.get((spec.version, index))
                    if record is not None and record.state in LIVE_STATES:
                        continue
                    record = record or self._new_record(spec, index)
                    record.streak = 0
                    started.append(record)
                    self._spawn(record, spec)
            except BaseException:  # nothing half-started stays behind, whatever failed
                self._launching.discard(spec.version)
                self._drop(started)
                raise
            members = [r for r in self._records.values() if r.version == spec.version]
            surplus = [r for r in members if r.index >= spec.instances]
            members = [r for r in members if r.index < spec.instances]
            for record in surplus:
                record.state = InstanceState.STOPPING
            self._save()
        try:
            self._terminate(surplus, spec.stop_grace)
            self._wait_ready(members, spec)
        except InstanceStartError:
            self._terminate(started, spec.stop_grace)
            raise
        finally:
            with self._lock:
                self._launching.discard(spec.version)
        return self.instances(spec.version)

    def restart(self, version: str, route: Callable[[], None] | None = None) -> list[InstanceInfo]:
        """Replace the instances of `version` one at a time, so that they start with the
        secret values of now, without a moment with fewer ready instances than before.

        Each replacement starts beside the instance it replaces, on a port of its own, and
        is waited for until it answers its health path; then the old one is marked stopping,
        `route` gives the router the ready instances, and the old one is stopped (SIGTERM,
        its grace, SIGKILL) and the replacement takes its place and index. When the
        replacement does not start, or `route` fails, it is stopped and the old instance
        keeps serving. The secrets are resolved first: when that fails, nothing starts.
        """
        with self._lock:
            self._ensure_loaded()
            spec = self._specs.get(version)
        if spec is None:
            raise ConfigError(f"{version} does not run in {self.environment}")
        resolve_secrets(spec, self.launcher.secrets, f"{version} (restart)")  # off the lock
        with self._lock:
            records = sorted(
                (r for r in self._records.values() if r.version == version), key=lambda r: r.key
            )
            self._launching.add(version)
        try:
            for record in records:
                self._replace(record, spec, route)
        finally:
            with self._lock:
                self._launching.discard(version)
        return self.instances(version)

    def _replace(
        self, record: InstanceRecord, spec: LaunchSpec, route: Callable[[], None] | None
    ) -> None:
        """Start a replacement of `record` beside it, then swap them (see `restart`)."""
        with self._lock:
            taken = [r.index for r in self._records.values() if r.version == record.version]
            fresh = self._new_record(spec, max(taken) + 1)
            fresh.log_path = record.log_path  # the instance's log goes on in its own file
            with contextlib.suppress(OSError):
                log_marker(
                    Path(record.log_path),
                    f"restarting {record.version} instance {record.index}: its replacement "
                    f"starts on port {fresh.port}",
                )
            try:
                self._spawn(fresh, spec)
            except BaseException:
                self._drop([fresh])
                raise
        try:
            self._wait_ready([fresh], spec)
            with self._lock:
                record.state = InstanceState.STOPPING
                self._save()
            if route is not None:
                route()
        except BaseException:
            with self._lock:
                if record.state is InstanceState.STOPPING:
                    record.state = InstanceState.READY
            self._terminate([fresh], spec.stop_grace)
            raise
        self._terminate([record], spec.stop_grace)
        with self._lock:
            process = self._processes.pop(fresh.key, None)
            del self._records[fresh.key]
            fresh.index = record.index
            self._records[fresh.key] = fresh
            if process is not None:
                self._processes[fresh.key] = process
            self._save()

    def stop(self, version: str, grace: float | None = None) -> None:
        """SIGTERM every instance of `version`, SIGKILL after `grace`; forget the version."""
        with self._lock:
            self._ensure_loaded()
            records = [r for r in self._records.values() if r.version == version]
            for record in records:
                record.state = InstanceState.STOPPING
            self._save()
        self._terminate(records, self._grace(version) if grace is None else grace)

    def stop_all(self, grace: float | None = None) -> None:
        for version in self.versions():
            self.stop(version, grace)

    # -- supervision ---------------------------------------------------------------------
    def check(self) -> None:
        """One supervision pass: notice exits, restart after backoff, mark ready, rotate."""
        with self._lock:
            self._ensure_loaded()
            now, changed = self.clock(), False
            for record in list(self._records.values()):
                spec = self._specs.get(record.version)
                if spec is None or record.version in self._launching:
                    continue
                changed |= self._supervise(record, spec, now)
                rotate_if_needed(Path(record.log_path), self.limits)
            if changed:
                self._save()

    def _supervise(self, record: InstanceRecord, spec: LaunchSpec, now: float) -> bool:
        if record.state in LIVE_STATES:
            exited, code = self.launcher.exited(record, self._processes.get(record.key))
            if exited:
                self._on_exit(record, code, now)
                return True
            if record.state is InstanceState.STARTING:
                if self.probe(record.host, record.port, spec.health_path):
                    record.state = InstanceState.READY
                    return True
                if now - record.started_at > spec.ready_timeout:
                    signal_group(record.pid, signal.SIGKILL)
            return False
        if record.state is InstanceState.BACKOFF and now >= record.restart_at:
            record.restarts += 1
            try:
                self._spawn(record, spec)
            except InstanceStartError as exc:
                log.warning("restart failed", instance=record.key, error=str(exc))
                self._on_exit(record, None, now)
            return True
        return False

    def _on_exit(self, record: InstanceRecord, code: int | None, now: float) -> None:
        self._processes.pop(record.key, None)
        note_exit(record, code, now, self.policy)

    def start_monitor(self, interval: float = 1.0) -> None:
        """Run `check` every `interval` seconds on a daemon thread."""
        self._monitor.start(interval)

    def close(self) -> None:
        """Stop the monitor thread; the instances keep running (a later supervisor adopts)."""
        self._monitor.stop()

    # -- internals -----------------------------------------------------------------------
    def _new_record(self, spec: LaunchSpec, index: int) -> InstanceRecord:
        used = {r.port for r in self._records.values()}
        path = instance_log_path(self.log_dir, spec.version, index)
        port = free_port(spec.host, avoid=used)
        record = InstanceRecord(spec.version, index, port, str(path), host=spec.host)
        self._records[record.key] = record
        return record

    def _spawn(self, record: InstanceRecord, spec: LaunchSpec) -> None:
        self._processes[record.key] = self.launcher.spawn(record, spec)
        self._save()

    def _wait_ready(self, records: list[InstanceRecord], spec: LaunchSpec) -> None:
        def exited(record: InstanceRecord) -> tuple[bool, int | None]:
            with self._lock:
                return self.launcher.exited(record, self._processes.get(record.key))

        def ready(record: InstanceRecord) -> None:
            with self._lock:
                record.state = InstanceState.READY
                self._save()

        pending = [r for r in records if r.state is not InstanceState.READY]
        waiter = ReadinessWait(self.service, spec, self.probe, self.clock, self.sleep)
        waiter.wait(pending, exited, ready)

    def _terminate(self, records: Iterable[InstanceRecord], grace: float) -> None:
        """Stop processes in parallel (SIGTERM, wait, SIGKILL), then forget them."""
        records = list(records)
        stop_processes(records, grace, self._running, self.clock, self.sleep)
        for record in records:
            with contextlib.suppress(OSError):  # e.g. a full disk: the stop still counts
                log_marker(
                    Path(record.log_path), f"stopped {record.version} instance {record.index}"
                )
        self._drop(records)

    def _running(self, record: InstanceRecord) -> bool:
        process = self._processes.get(record.key)
        if process is not None and process.pid == record.pid:
            return process.poll() is None
        reap(record.pid)
        return record.pid > 0 and is_same_process(record.pid, record.start_ticks)

    def _drop(self, records: Iterable[InstanceRecord]) -> None:
        with self._lock:
            for record in records:
                if self._records.get(record.key) is record:
                    del self._records[record.key]
                self._processes.pop(record.key, None)
            self._specs = {v: s for v, s in self._specs.items() if self._has(v)}
            self._save()

    def _has(self, version: str) -> bool:
        return any(r.version == version for r in self._records.values())

    def _grace(self, version: str) -> float:
        spec = self._specs.get(version)
        return spec.stop_grace if spec is not None else 10.0

    def _save(self) -> None:
        save_state(self.state_path, self._specs, self._records.values())
