"""Timeouts and limits of the builtin router (HAProxy gets the same from them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ProxyConfig:
    """Timeouts in seconds, limits in bytes, header lines and connections."""

    connect_timeout: float = 5.0
    response_timeout: float = 30.0  # until the instance has sent its response head
    read_timeout: float = 60.0  # longest silence of the instance inside a response body
    client_header_timeout: float = 10.0  # until a client has sent a whole request head
    client_idle_timeout: float = 75.0
    max_header_bytes: int = 32768
    max_headers: int = 100
    # Below uvicorn's 5 s keep-alive so the pool rarely reuses a connection being closed.
    upstream_idle_timeout: float = 3.0
    max_idle_per_address: int = 512
    sweep_interval: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ProxyConfig:
        """The config in `data`; unknown keys are ignored, missing ones get defaults."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})
