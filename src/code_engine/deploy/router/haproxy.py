"""`HAProxyRouter`: the `TrafficRouter` backed by a real HAProxy and its runtime API.

Backends are written to haproxy.cfg and applied by a seamless reload (listening sockets
are passed to the new process over the admin socket); weights change at run time with
`set weight` and are also written to the config, so a reload keeps them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from code_engine.deploy.local.atomic import read_json, write_atomic, write_json_atomic
from code_engine.deploy.local.proc import pid_alive
from code_engine.deploy.router.errors import RouterError
from code_engine.deploy.router.haproxy_config import (
    HAProxySettings,
    preview_weights,
    render_config,
    server_names,
    server_weights,
)
from code_engine.deploy.router.haproxy_runtime import RuntimeAPI, version_stats
from code_engine.deploy.router.launch import control_socket_path
from code_engine.deploy.router.stats import VersionStats
from code_engine.deploy.router.table import parse_address, validate


class HAProxyRouter:
    """One HAProxy process per service environment, in `settings.workdir`."""

    kind = "haproxy"

    def __init__(self, settings: HAProxySettings) -> None:
        self.settings = settings
        self.socket_path = control_socket_path(settings.workdir, "haproxy.sock")
        self.api = RuntimeAPI(self.socket_path)
        saved = read_json(settings.state_path) or {}
        self.backends: dict[str, list[str]] = saved.get("backends", {})
        self.weights: dict[str, int] = saved.get("weights", {})
        self.preview: str | None = saved.get("preview")

    # -- process -------------------------------------------------------------------------
    def pids(self) -> list[int]:
        """Running HAProxy processes of this router (from its pid file)."""
        try:
            text = self.settings.pid_path.read_text()
        except FileNotFoundError:
            return []
        return [int(p) for p in text.split() if p.isdigit() and pid_alive(int(p))]

    def ensure_running(self) -> None:
        """Start HAProxy with the saved routing if it is not running; reload it when its
        configuration is not the one these settings give (e.g. a preview port added)."""
        if not self.pids() or self._config_text() != _read(self.settings.config_path):
            self._apply_config()

    def stop(self, timeout: float = 10.0) -> None:
        """Soft-stop HAProxy (in-flight requests finish), then kill what is left."""
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _apply_config(self) -> None:
        settings = self.settings
        settings.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        argv = [settings.binary, "-D", "-f", str(settings.config_path)]
        argv += ["-p", str(settings.pid_path)]
        old = self.pids()
        if old:
            argv += ["-x", str(self.socket_path), "-sf", *map(str, old)]
        result = subprocess.run(  # noqa: S603 - our binary, our generated config
            argv, capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RouterError(f"HAProxy failed to start: {result.stderr.strip()[-2000:]}")
        self._wait_socket()

    def _wait_socket(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._answers():
            if time.monotonic() > deadline:
                raise RouterError(f"HAProxy runtime API {self.socket_path} does not answer")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            self.api.command("show info")
        except RouterError:
            return False
        return True

    def _save(self) -> None:
        state = {"backends": self.backends, "weights": self.weights, "preview": self.preview}
        write_json_atomic(self.settings.state_path, state)

    def _config_text(self) -> str:
        servers = server_names(self.backends)
        return render_config(
            self.settings, servers, self.weights, self.socket_path, preview=self.preview
        )

    def _write_config(self) -> None:
        write_atomic(self.settings.config_path, self._config_text().encode(), mode=0o644)

    # -- TrafficRouter -------------------------------------------------------------------
    def set_backends(self, backends: Mapping[str, Sequence[str]]) -> None:
        new = {v: list(a) for v, a in backends.items() if a}
        for addresses in new.values():
            for address in addresses:
                parse_address(address)
        validate(self.weights, new)
        if new == self.backends and self.pids():
            return  # nothing changed: no reload, counters keep running
        self.backends = new
        self._save()
        self._apply_config()

    def set_weights(self, weights: Mapping[str, int]) -> None:
        validate(weights, self.backends)
        self.weights = {v: int(w) for v, w in weights.items()}
        self._save()
        servers = server_names(self.backends)
        for name, weight in server_weights(self.weights, servers).items():
            self.api.set_weight(self.settings.backend, name, weight)
        self._write_config()

    def get_weights(self) -> dict[str, int]:
        return dict(self.weights)

    def get_backends(self) -> dict[str, list[str]]:
        return {v: list(a) for v, a in self.backends.items()}

    def set_preview(self, version: str | None) -> None:
        """Weight the preview backend's servers of `version` only (live and in the config)."""
        if version is not None and not self.backends.get(version):
            raise RouterError(f"cannot preview version {version!r}: it has no backends")
        self.preview = version
        self._save()
        if self.settings.preview_port is not None:
            servers = server_names(self.backends)
            for name, weight in preview_weights(version, servers).items():
                self.api.set_weight(self.settings.preview_backend, name, weight)
        self._write_config()

    def get_preview(self) -> str | None:
        return self.preview

    def verify_weights(self, expected: Mapping[str, int]) -> bool:
        """Whether every server's live weight is what `expected` requires."""
        servers = server_names(self.backends)
        wanted = server_weights(expected, servers)
        live = {n: self.api.get_weight(self.settings.backend, n) for n in servers}
        return live == wanted

    def stats(self) -> dict[str, VersionStats]:
        servers = server_names(self.backends)
        rows = self.api.show_stat()
        return version_stats(rows, self.settings.backends, servers, self.api.show_sess())

    def reset_stats(self) -> None:
        self.api.command("clear counters all")

    def wait_idle(self, version: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            current = self.stats().get(version)
            if current is None or current.in_flight == 0:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
