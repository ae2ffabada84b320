"""`InProcessRouter`: the builtin proxy on a background thread, for tests and embedding."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from code_engine.deploy.router.config import ProxyConfig
from code_engine.deploy.router.proxy import ProxyServer
from code_engine.deploy.router.stats import VersionStats

T = TypeVar("T")


class InProcessRouter:
    """A `TrafficRouter` whose proxy runs on its own event loop in this process."""

    kind = "builtin"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: ProxyConfig | None = None,
        preview_port: int | None = None,
    ):
        self.proxy = ProxyServer(config=config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port = self._run(self.proxy.start(host, port))
        self.preview_port: int | None = None
        if preview_port is not None:
            self.preview_port = self._run(self.proxy.start_preview(host, preview_port))
        self.host = host

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _call(self, fn: Any, *args: Any) -> Any:
        async def call() -> Any:
            return fn(*args)

        return self._run(call())

    def set_backends(self, backends: Mapping[str, Sequence[str]]) -> None:
        self._call(self.proxy.set_backends, backends)

    def set_weights(self, weights: Mapping[str, int]) -> None:
        self._call(self.proxy.set_weights, weights)

    def get_weights(self) -> dict[str, int]:
        return dict(self._call(lambda: self.proxy.table.weights))

    def get_backends(self) -> dict[str, list[str]]:
        config: dict[str, Any] = self._call(self.proxy.table.to_json)
        return {str(v): list(a) for v, a in config["backends"].items()}

    def set_preview(self, version: str | None) -> None:
        self._call(self.proxy.set_preview, version)

    def get_preview(self) -> str | None:
        preview: str | None = self._call(lambda: self.proxy.table.preview)
        return preview

    def verify_weights(self, expected: Mapping[str, int]) -> bool:
        actual = {v: w for v, w in self.get_weights().items() if w > 0}
        return actual == {v: w for v, w in expected.items() if w > 0}

    def stats(self) -> dict[str, VersionStats]:
        result: dict[str, VersionStats] = self._call(self.proxy.snapshot)
        return result

    def reset_stats(self) -> None:
        self._call(self.proxy.stats.reset)

    def wait_idle(self, version: str, timeout: float) -> bool:
        return self._run(self.proxy.wait_idle(version, timeout))

    def close(self) -> None:
        self._run(self.proxy.close(grace=1.0))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
