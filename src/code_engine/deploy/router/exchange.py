"""One request/response exchange through the proxy, from client head to last byte."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from code_engine.deploy.router.headers import (
    LAST_CHUNK,
    BodyMode,
    Headers,
    chunk,
    response_head,
    simple_response,
    switching_head,
)
from code_engine.deploy.router.stats import CONNECT, TIMEOUT
from code_engine.deploy.router.table import Address
from code_engine.deploy.router.tunnel import hold_client, open_tunnel
from code_engine.deploy.router.upstream import UpstreamConnection

if TYPE_CHECKING:
    from code_engine.deploy.router.downstream import ClientConnection
    from code_engine.deploy.router.proxy import ProxyServer

MAX_PENDING_BODY = 256 * 1024


class Exchange:
    """Routes one request to a version, streams both bodies and records the outcome.

    An `upgrade` request (WebSocket, ...) the instance answers `101` becomes a tunnel; the
    exchange then lasts until the tunnel closes and is recorded with status 101 and the
    time until the 101 head as its latency.
    """

    __slots__ = (
        "address", "body_mode", "client", "close_client", "done", "eof_body", "failure",
        "head", "http10", "is_head", "keep_alive", "last_read", "out", "out_mode",
        "passthrough_ok", "pending", "pending_size", "request_done", "response_started",
        "retried", "reused", "server", "started", "status", "switched_ms", "task", "upgrade",
        "upstream", "version",
)  # fmt: skip

    def __init__(
        self,
        server: ProxyServer,
        client: ClientConnection,
        head: bytes,
        body_mode: BodyMode,
        *,
        is_head: bool,
        keep_alive: bool,
        http10: bool,
        upgrade: bool = False,
    ) -> None:
        self.server = server
        self.client = client
        self.head = head
        self.body_mode = body_mode
        self.is_head = is_head
        self.keep_alive = keep_alive
        self.http10 = http10
        self.upgrade = upgrade
        self.switched_ms = 0.0
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.request_done = body_mode is BodyMode.NONE
        self.passthrough_ok = keep_alive and not http10 and not is_head
        self.out: list[bytes] = []
        self.out_mode = BodyMode.NONE
        self.close_client = False
        self.response_started = False
        self.eof_body = False
        self.done = False
        self.reused = False
        self.retried = False
        self.status = 0
        self.started = 0.0
        self.last_read = 0.0  # when the instance last sent part of a streamed response
        self.failure: str | None = None  # TIMEOUT or CONNECT when the instance failed it
        self.version = ""
        self.address: Address = ("", 0)
        self.upstream: UpstreamConnection | None = None
        self.task: asyncio.Task[None] | None = None

    # -- request side ------------------------------------------------------------------
    def start(self) -> None:
        """Pick a version and an instance, then send the request there."""
        self.started = time.perf_counter()
        picked = self.client.pick()
        if picked is None:
            self.fail(503, self.client.unrouted())
            return
        self.version, self.address = picked
        self.server.enter(self.version)
        conn = self.server.pool.acquire(self.address)
        if conn is None:
            self.task = asyncio.ensure_future(self._connect())
        else:
            self.reused = True
            self._attach(conn)

    async def _connect(self) -> None:
        try:
            conn = await self.server.pool.connect(self.address)
        except (TimeoutError, OSError):
            self.fail(502, b"cannot connect to the instance", CONNECT)
            return
        if self.done:
            self.server.pool.release(conn)
            return
        self._attach(conn)

    def _attach(self, conn: UpstreamConnection) -> None:
        self.upstream = conn
        conn.bind(self, self.is_head)
        if self.pending:
            conn.writelines([self.head, *self.pending])
            self.pending, self.pending_size = [], 0
            self.client.resume_reading()
        else:
            conn.write(self.head)

    def send_body(self, data: bytes) -> None:
        if self.done:
            return
        pieces = chunk(data) if self.body_mode is BodyMode.CHUNKED else [data]
        if self.upstream is not None:
            self.upstream.writelines(pieces)
            return
        self.pending += pieces
        self.pending_size += len(data)
        if self.pending_size > MAX_PENDING_BODY:
            self.client.pause_reading()

    def body_done(self) -> None:
        self.request_done = True
        if self.body_mode is BodyMode.CHUNKED and not self.done:
            self.send_body_raw(LAST_CHUNK)

    def send_body_raw(self, data: bytes) -> None:
        if self.upstream is not None:
            self.upstream.write(data)
        else:
            self.pending.append(data)

    # -- response side (called by the upstream connection) -----------------------------
    def response_interim(self, status: int, reason: bytes, headers: Headers) -> None:
        head, _, _, _ = response_head(
            status, reason, headers, no_body=True, client_keep_alive=True, client_http10=False
        )
        if not self.http10:
            self.out.append(head)

    def response_head(self, status: int, reason: bytes, headers: Headers, no_body: bool) -> None:
        self.status = status
        self.response_started = True
        self.last_read = time.perf_counter()
        head, upstream_mode, self.out_mode, self.close_client = response_head(
            status,
            reason,
            headers,
            no_body=no_body,
            client_keep_alive=self.keep_alive,
            client_http10=self.http10,
        )
        self.eof_body = upstream_mode is BodyMode.EOF
        self.out.append(head)

    def response_switching(self, reason: bytes, headers: Headers) -> None:
        """The instance accepted the upgrade: its 101 head goes to the client."""
        self.status = 101
        self.response_started = True
        self.switched_ms = (time.perf_counter() - self.started) * 1000
        self.out.append(switching_head(reason, headers))

    def switch(self, conn: UpstreamConnection, early: bytes) -> None:
        """After the 101 head (and `early`, the instance's first bytes of the new protocol),
        pipe the client and the instance together until either closes."""
        self.upstream = None
        conn.exchange = None
        self.flush()
        client = self.client
        if early:
            client.write([early])
        transport = client.transport
        if conn.transport is None or transport is None or client.closed:
            conn.close()
            self.tunnel_closed()
            return
        holder = client.holder or hold_client(transport, client, b"")
        open_tunnel(holder, conn.transport, self.tunnel_closed)

    def tunnel_closed(self) -> None:
        """The tunnel ended: record the exchange and forget the client connection."""
        if self.done:
            return
        self.done = True
        self.server.stats.record(self.version, 101, self.switched_ms)
        self.server.leave(self.version)
        client = self.client
        client.closed = True
        client.pipeline.clear()
        self.server.clients.discard(client)

    def response_whole(self, status: int, data: bytes) -> None:
        """A complete response the upstream connection forwards unchanged."""
        self.status = status
        self.response_started = True
        self.out.append(data)

    def response_body(self, data: bytes) -> None:
        self.last_read = time.perf_counter()
        if self.out_mode is BodyMode.CHUNKED:
            self.out += chunk(data)
        else:
            self.out.append(data)

    def flush(self) -> None:
        if self.out:
            self.client.write(self.out)
            self.out = []

    def response_complete(self, conn: UpstreamConnection) -> None:
        if self.out_mode is BodyMode.CHUNKED:
            self.out.append(LAST_CHUNK)
        self.flush()
        if self.request_done and not self.upgrade:
            self.server.pool.release(conn)
        else:
            conn.close()  # the instance answered before reading the whole body
            self.close_client = True
        self._finish()

    def upstream_lost(self, conn: UpstreamConnection, failed: bool) -> None:
        """The instance closed the connection (`failed`: or sent something unparsable)."""
        if self.done or conn is not self.upstream:
            return
        self.upstream = None
        if self.response_started:
            if self.eof_body and not failed:  # a close-delimited body ends here
                if self.out_mode is BodyMode.CHUNKED:
                    self.out.append(LAST_CHUNK)
            else:
                self.status = 502  # the client got a truncated response
                self.failure = CONNECT
                self.close_client = True
            self.flush()
            self._finish()
            return
        if self.reused and not self.retried and self.body_mode is BodyMode.NONE and not failed:
            # A pooled connection the instance had just closed: try once on a fresh one.
            self.retried, self.reused = True, False
            self.task = asyncio.ensure_future(self._connect())
            return
        self.fail(502, b"the instance closed the connection", CONNECT)

    # -- endings -----------------------------------------------------------------------
    def fail(self, status: int, message: bytes, failure: str | None = None) -> None:
        """Answer with an error made by the proxy itself (`failure`: the instance's fault)."""
        if self.done:
            return
        self.status = status
        self.failure = failure
        if self.upstream is not None:
            self.upstream.discard()
            self.upstream = None
        self.close_client = not self.keep_alive or not self.request_done
        if self.response_started:
            self.close_client = True
        else:
            self.out = [simple_response(status, message, close=self.close_client)]
        self.flush()
        self._finish()

    def timed_out(self, now: float, timeout: float) -> bool:
        """Whether the instance took longer than `timeout` to start answering."""
        waiting = not self.done and not self.response_started and self.started > 0
        return waiting and now - self.started > timeout

    def stalled(self, now: float, timeout: float) -> bool:
        """Whether the instance went silent for longer than `timeout` inside a response body
        (an upgraded connection is a tunnel, which may be idle)."""
        streaming = not self.done and self.response_started and self.status != 101
        return streaming and self.last_read > 0 and now - self.last_read > timeout

    def cut(self) -> None:
        """End a response the instance stopped sending: the client connection closes."""
        if self.done:
            return
        self.failure = TIMEOUT
        if self.upstream is not None:
            self.upstream.discard()
            self.upstream = None
        self.close_client = True
        self.flush()
        self._finish()

    def age_ms(self, now: float) -> float | None:
        """How long this request has waited for its response; None for a tunnel or when
        it is not routed yet."""
        if self.done or not self.version or self.status == 101:
            return None
        return (now - self.started) * 1000

    def abort(self) -> None:
        """The client went away: drop the upstream connection, count nothing."""
        if self.done:
            return
        self.done = True
        if self.upstream is not None:
            self.upstream.discard()
            self.upstream = None
        if self.version:
            self.server.leave(self.version)

    def _finish(self) -> None:
        self.done = True
        if self.version:
            elapsed_ms = (time.perf_counter() - self.started) * 1000
            self.server.stats.record(self.version, self.status, elapsed_ms, self.failure)
            self.server.leave(self.version)
        self.client.exchange_done(self)
