"""What the local target runs: launch specs, instance records and their states."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class InstanceState(str, Enum):
    STARTING = "starting"  # spawned, health not yet answered
    READY = "ready"  # health answered 2xx
    BACKOFF = "backoff"  # exited; restarts after a delay
    CRASHED = "crashed"  # exited too often in a row; left down
    STOPPING = "stopping"


LIVE_STATES = frozenset({InstanceState.STARTING, InstanceState.READY})


@dataclass(frozen=True)
class LaunchSpec:
    """How to run the instances of one release.

    `command` and `env` values may use `{port}`, `{python}`, `{host}`, `{version}`;
    the process also gets `PORT`. `cwd` is the release snapshot directory.
    """

    version: str
    command: str
    cwd: Path
    instances: int = 1
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/healthz"
    python: str = sys.executable
    host: str = "127.0.0.1"
    ready_timeout: float = 60.0
    stop_grace: float = 10.0
    # variable -> secret reference; the launcher resolves them at each start (never kept)
    secrets: Mapping[str, str] = field(default_factory=dict)

    def placeholders(self, port: int) -> dict[str, str]:
        return {
            "port": str(port),
            "python": self.python,
            "host": self.host,
            "version": self.version,
        }

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cwd"] = str(self.cwd)
        data["env"] = dict(self.env)
        data["secrets"] = dict(self.secrets)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LaunchSpec:
        env, secrets = dict(data.get("env", {})), dict(data.get("secrets", {}))
        return cls(**{**data, "cwd": Path(data["cwd"]), "env": env, "secrets": secrets})


@dataclass(frozen=True)
class InstanceInfo:
    """A read-only view of one instance, as the controller sees it."""

    version: str
    index: int
    port: int
    pid: int
    state: InstanceState
    started_at: float
    restarts: int
    log_path: Path
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class InstanceRecord:
    """One instance as the supervisor tracks it and persists it (pid + start ticks name
    a process unambiguously, so a restarted controller never adopts a reused pid)."""

    version: str
    index: int
    port: int
    log_path: str
    host: str = "127.0.0.1"
    pid: int = 0
    start_ticks: int | None = None
    started_at: float = 0.0
    state: InstanceState = InstanceState.STARTING
    restarts: int = 0
    streak: int = 0
    restart_at: float = 0.0

    @property
    def key(self) -> tuple[str, int]:
        return (self.version, self.index)

    def info(self) -> InstanceInfo:
        return InstanceInfo(
            version=self.version,
            index=self.index,
            port=self.port,
            pid=self.pid,
            state=self.state,
            started_at=self.started_at,
            restarts=self.restarts,
            log_path=Path(self.log_path),
            host=self.host,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InstanceRecord:
        return cls(**{**data, "state": InstanceState(data["state"])})
