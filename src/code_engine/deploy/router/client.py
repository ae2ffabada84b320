"""`BuiltinRouter`: the `TrafficRouter` that drives a router process over its control API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from code_engine.deploy.router.errors import RouterError
from code_engine.deploy.router.stats import VersionStats


class BuiltinRouter:
    """Client of one builtin router process (`code_engine.deploy.router.serve`)."""

    kind = "builtin"

    def __init__(self, control: str, timeout: float = 10.0) -> None:
        self.control = control
        if "/" in control:
            transport = httpx.HTTPTransport(uds=control)
            self._http = httpx.Client(
                transport=transport, base_url="http://router", timeout=timeout
            )
        else:
            self._http = httpx.Client(base_url=f"http://{control}", timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RouterError(f"router control {self.control} unreachable: {exc}") from exc
        payload = response.json()
        if response.status_code >= 400:
            message = payload.get("error", {}).get("message", response.text)
            raise RouterError(f"router refused {method} {path}: {message}")
        return payload

    def health(self) -> dict[str, Any]:
        """`{"ok": true, "pid": N, "port": P}` of the router process."""
        result: dict[str, Any] = self._call("GET", "/healthz")
        return result

    def health_or_none(self) -> dict[str, Any] | None:
        """`health()`, or None when the router does not answer."""
        try:
            return self.health()
        except RouterError:
            return None

    def ping(self) -> bool:
        try:
            self.health()
        except RouterError:
            return False
        return True

    def config(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/config")
        return result

    def set_backends(self, backends: Mapping[str, Sequence[str]]) -> None:
        self._call("PUT", "/backends", json={v: list(a) for v, a in backends.items()})

    def set_weights(self, weights: Mapping[str, int]) -> None:
        self._call("PUT", "/weights", json=dict(weights))

    def get_weights(self) -> dict[str, int]:
        return {str(v): int(w) for v, w in self.config()["weights"].items()}

    def get_backends(self) -> dict[str, list[str]]:
        return {str(v): [str(a) for a in addrs] for v, addrs in self.config()["backends"].items()}

    def set_preview(self, version: str | None) -> None:
        self._call("PUT", "/preview", json={"version": version})

    def get_preview(self) -> str | None:
        preview = self.config().get("preview")
        return None if preview is None else str(preview)

    def listen_preview(self, port: int) -> None:
        """Open the preview listener on `port` (closing the previous one) if it is not there."""
        self._call("PUT", "/preview/listener", json={"port": port})

    def verify_weights(self, expected: Mapping[str, int]) -> bool:
        return _positive(self.get_weights()) == _positive(expected)

    def stats(self) -> dict[str, VersionStats]:
        data = self._call("GET", "/stats")
        return {str(v): VersionStats.from_json(s) for v, s in data.items()}

    def reset_stats(self) -> None:
        self._call("POST", "/stats/reset")

    def wait_idle(self, version: str, timeout: float) -> bool:
        params = {"version": version, "timeout": str(timeout)}
        data = self._call("GET", "/idle", params=params, timeout=timeout + 10.0)
        return bool(data["idle"])


def _positive(weights: Mapping[str, int]) -> dict[str, int]:
    return {v: int(w) for v, w in weights.items() if w > 0}
