"""Start (or find again) the builtin router process of one service environment."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from code_engine.deploy.local.atomic import read_json, write_json_atomic
from code_engine.deploy.local.proc import (
    cmdline,
    is_same_process,
    pid_alive,
    process_age,
    reap,
    start_ticks,
)
from code_engine.deploy.router.client import BuiltinRouter
from code_engine.deploy.router.config import ProxyConfig
from code_engine.deploy.router.errors import RouterError, RouterPortInUse
from code_engine.observe.logging import get_logger

log = get_logger(__name__)
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux
ROUTER_MODULE = "code_engine.deploy.router.serve"
HUNG_AFTER = 5.0  # seconds a router process may take to answer once started


def control_socket_path(run_dir: Path, name: str = "router.sock") -> Path:
    """`run_dir/name`, or a short path under the temp dir when that is too long."""
    path = run_dir / name
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"code-{digest}-{name}"


@dataclass(frozen=True)
class RouterLaunch:
    """Where a router listens (and for preview traffic), is controlled, keeps its config
    and writes its log."""

    port: int
    control: str
    state_path: Path
    log_path: Path
    host: str = "127.0.0.1"
    python: str = sys.executable
    preview_port: int | None = None
    limits: ProxyConfig = ProxyConfig()

    @property
    def limits_path(self) -> Path:
        return self.state_path.with_name("router-limits.json")

    @property
    def process_path(self) -> Path:
        """Which process the router is (pid and start time), for when it does not answer."""
        return router_process_path(self.state_path.parent)

    @classmethod
    def for_environment(
        cls,
        data_dir: Path,
        service: str,
        environment: str,
        port: int,
        preview_port: int | None = None,
        limits: ProxyConfig | None = None,
    ) -> RouterLaunch:
        run_dir = data_dir / "run" / service / environment
        return cls(
            port=port,
            control=str(control_socket_path(run_dir)),
            state_path=run_dir / "router.json",
            log_path=data_dir / "logs" / service / environment / "router.log",
            preview_port=preview_port,
            limits=limits or ProxyConfig(),
        )

    def argv(self) -> list[str]:
        preview = [] if self.preview_port is None else ["--preview-port", str(self.preview_port)]
        return [
            self.python, "-m", ROUTER_MODULE,
            "--host", self.host, "--port", str(self.port),
            "--control", self.control, "--state", str(self.state_path), *preview,
            "--limits", str(self.limits_path),
        ]  # fmt: skip

    def write_limits(self) -> bool:
        """Write the limits file; True when it changed."""
        wanted = self.limits.to_dict()
        if read_json(self.limits_path) == wanted:
            return False
        write_json_atomic(self.limits_path, wanted)
        return True


def ensure_router(
    launch: RouterLaunch,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> BuiltinRouter:
    """The router answering on `launch.control`, started in its own session if none does."""
    router = BuiltinRouter(launch.control)
    launch.state_path.parent.mkdir(parents=True, exist_ok=True)
    changed = launch.write_limits()
    health = router.health_or_none()
    if health is not None:
        pid = int(health.get("pid", 0))
        # a running router reads its limits again on SIGHUP (one started without them
        # would die of it: it gets them when it is next started)
        if changed and "--limits" in cmdline(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGHUP)
        if launch.preview_port is not None and health.get("preview_port") != launch.preview_port:
            try:  # started without a preview listener, or with another port
                router.listen_preview(launch.preview_port)
            except RouterError as exc:
                log.warning("router refused the preview listener", port=launch.port, error=str(exc))
        return router
    _end_hung_router(launch.process_path, sleep)
    check_port(launch.host, launch.port)
    launch.state_path.parent.mkdir(parents=True, exist_ok=True)
    launch.log_path.parent.mkdir(parents=True, exist_ok=True)
    with launch.log_path.open("ab") as log_file:
        process = subprocess.Popen(  # noqa: S603 - argv built from our own settings
            launch.argv(),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,  # survives the controller being killed
            close_fds=True,
        )
    record = {"pid": process.pid, "start_ticks": start_ticks(process.pid)}
    write_json_atomic(launch.process_path, record)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if router.ping():
            return router
        if process.poll() is not None:
            break
        sleep(0.05)
    router.close()
    if process.poll() is None:
        process.kill()
    tail = _tail(launch.log_path)
    raise RouterError(f"router on port {launch.port} did not start; last log lines:\n{tail}")


def check_port(host: str, port: int) -> None:
    """Raise `RouterPortInUse` when another process listens on `host:port`."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return  # the router process reports anything else itself
            raise RouterPortInUse(
                f"the router cannot listen on {host}:{port}: the port is in use by another "
                "process (EADDRINUSE); stop it or set another target.port in code.yaml"
            ) from exc


def router_process_path(run_dir: Path) -> Path:
    return run_dir / "router-process.json"


def recorded_router(path: Path) -> int | None:
    """The pid of the router process `path` names, when that very process still runs."""
    try:
        record = read_json(path)
    except (OSError, ValueError):  # unreadable: as if there were none
        return None
    if not isinstance(record, dict):
        return None
    pid, ticks = record.get("pid"), record.get("start_ticks")
    if not isinstance(pid, int) or not isinstance(ticks, int) or not is_same_process(pid, ticks):
        return None
    return pid if ROUTER_MODULE in cmdline(pid) else None


def _end_hung_router(
    path: Path, sleep: Callable[[float], None], starting: float = HUNG_AFTER
) -> None:
    """Kill the recorded router process when it runs but has not answered its control
    socket (stopped, deadlocked): it holds the port a new router needs. One younger than
    `starting` seconds is given that long to answer first."""
    pid = recorded_router(path)
    if pid is None:
        return
    age = process_age(pid)
    if age is not None and age < starting:
        sleep(starting - age)
        if recorded_router(path) != pid:
            return
    log.warning("router process does not answer its control socket; killing it", pid=pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _exited(pid, 5.0)


def stop_router(router: BuiltinRouter, timeout: float = 15.0, recorded: Path | None = None) -> bool:
    """SIGTERM the router process and wait for it to exit; SIGKILL it after `timeout`.
    True when there was a router process to stop.

    The router closes its control socket first and then drains in-flight requests, so
    the wait is on the process itself: when this returns, its ports are free. A router
    that does not answer is found through `recorded` (its process file), if given.
    """
    health = router.health_or_none()
    pid = int(health["pid"]) if health is not None else _recorded_or_none(recorded)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)  # a stopped process acts on SIGTERM only once continued
    if _exited(pid, timeout):
        return True
    log.warning("router did not drain in time; killing it", pid=pid, timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _exited(pid, 5.0)
    return True


def _recorded_or_none(path: Path | None) -> int | None:
    return None if path is None else recorded_router(path)


def _exited(pid: int, timeout: float) -> bool:
    """Wait up to `timeout` for `pid` to be gone (reaped when it is our child)."""
    deadline = time.monotonic() + timeout
    while True:
        reap(pid)
        if not pid_alive(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
