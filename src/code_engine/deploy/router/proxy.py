"""The builtin router: a weighted HTTP/1.1 reverse proxy on asyncio.

Written here on purpose. A rollout needs, per version and in the process that moves the
weights: a weighted pick per request, request/5xx/latency counters to judge a canary, the
in-flight count to drain a version, and weight changes that drop no connection. A generic
proxy library gives none of these, and HAProxy (`HAProxyRouter`, for those who run it)
is an extra install. Parsing is not hand-written: requests go through httptools (llhttp).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence

from code_engine.deploy.router.config import ProxyConfig
from code_engine.deploy.router.downstream import ClientConnection
from code_engine.deploy.router.stats import TIMEOUT, StatsBook, VersionStats
from code_engine.deploy.router.table import RoutingTable
from code_engine.deploy.router.upstream import UpstreamPool

__all__ = ["ProxyConfig", "ProxyServer"]


class ProxyServer:
    """Accepts clients, routes each request by weight, keeps per-version statistics.

    An optional second listener, the preview listener, sends every request to the version
    under preview (`set_preview`); its requests count in the same statistics.
    """

    def __init__(self, table: RoutingTable | None = None, config: ProxyConfig | None = None):
        self.table = table or RoutingTable()
        self.config = config or ProxyConfig()
        self.stats = StatsBook()
        self.pool = UpstreamPool(self.config.connect_timeout, self.config.max_idle_per_address)
        self.pool.retain(self.table.addresses())
        self.clients: set[ClientConnection] = set()
        self.in_flight: dict[str, int] = {}
        self._idle: dict[str, asyncio.Event] = {}
        self._server: asyncio.Server | None = None
        self._preview_server: asyncio.Server | None = None
        self.preview_port: int | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on `host:port` (0 picks a free port); returns the port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: ClientConnection(self), host, port, reuse_address=True, backlog=2048
        )
        self._sweeper = asyncio.ensure_future(self._sweep_forever())
        sockets = self._server.sockets
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def start_preview(self, host: str, port: int) -> int:
        """Listen for preview traffic on `host:port` (0 picks a free port), instead of the
        previous preview port if any; returns the port."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: ClientConnection(self, preview=True), host, port, reuse_address=True
        )
        if self._preview_server is not None:
            self._preview_server.close()
        self._preview_server = server
        sockets = server.sockets
        self.preview_port = int(sockets[0].getsockname()[1]) if sockets else port
        return self.preview_port

    # -- routing changes ---------------------------------------------------------------
    def set_backends(self, backends: Mapping[str, Sequence[str]]) -> None:
        self.table.set_backends(backends)
        self.pool.retain(self.table.addresses())

    def set_weights(self, weights: Mapping[str, int]) -> None:
        self.table.set_weights(weights)

    def set_preview(self, version: str | None) -> None:
        self.table.set_preview(version)

    # -- in-flight accounting ----------------------------------------------------------
    def enter(self, version: str) -> None:
        self.in_flight[version] = self.in_flight.get(version, 0) + 1

    def leave(self, version: str) -> None:
        left = self.in_flight.get(version, 1) - 1
        self.in_flight[version] = left
        if left <= 0:
            event = self._idle.get(version)
            if event is not None:
                event.set()

    async def wait_idle(self, version: str, timeout: float) -> bool:
        """Wait until no request of `version` is in flight."""
        deadline = time.monotonic() + timeout
        while self.in_flight.get(version, 0) > 0:
            event = self._idle.setdefault(version, asyncio.Event())
            event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True

    def snapshot(self) -> dict[str, VersionStats]:
        """Statistics per version, with the ages of the requests waiting now."""
        now = time.perf_counter()
        ages: dict[str, list[float]] = {}
        for client in self.clients:
            for exchange in client.pipeline:
                age = exchange.age_ms(now)
                if age is not None:
                    ages.setdefault(exchange.version, []).append(age)
        return self.stats.snapshot(self.in_flight, ages)

    def reconfigure(self, config: ProxyConfig) -> None:
        """New timeouts and limits; they apply to requests from now on."""
        self.config = config
        self.pool.connect_timeout = config.connect_timeout

    # -- housekeeping ------------------------------------------------------------------
    async def _sweep_forever(self) -> None:
        config = self.config
        while True:
            await asyncio.sleep(config.sweep_interval)
            self.sweep(time.monotonic(), time.perf_counter())

    def sweep(self, now: float, perf_now: float) -> None:
        """Close idle and slow clients; answer 504 for instances that never answered, cut
        responses an instance stopped sending."""
        config = self.config
        self.pool.sweep(now, config.upstream_idle_timeout)
        for client in list(self.clients):
            started = client.head_started
            if started is not None and now - started > config.client_header_timeout:
                client.refuse(408, b"the request head did not arrive in time")
                continue
            if client.idle():
                if now - client.last_active > config.client_idle_timeout:
                    client.close()
                continue
            head = client.pipeline[0]
            if head.timed_out(perf_now, config.response_timeout):
                head.fail(504, b"the instance did not answer in time", TIMEOUT)
            elif head.stalled(perf_now, config.read_timeout):
                head.cut()

    async def close(self, grace: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish for up to `grace`, then close."""
        for server in (self._server, self._preview_server):
            if server is not None:
                server.close()
        deadline = time.monotonic() + grace
        while any(not c.idle() for c in self.clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for client in list(self.clients):
            client.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.pool.close()
