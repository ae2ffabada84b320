"""Client connections of the proxy: HTTP/1.1 parsing, keep-alive and pipelining."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, cast

import httptools

from code_engine.deploy.router.exchange import Exchange
from code_engine.deploy.router.headers import (
    BodyMode,
    request_head,
    simple_response,
    with_upgrade,
)
from code_engine.deploy.router.plainrequest import plain_request
from code_engine.deploy.router.tunnel import TunnelEnd, hold_client

if TYPE_CHECKING:
    from code_engine.deploy.router.proxy import ProxyServer

HEAD_FIRST_BYTE = ord("H")  # plain requests are GET or HEAD
NO_WEIGHT = b"no version of this service has traffic weight"


class ClientConnection(asyncio.Protocol):
    """One client connection; its requests are answered in order, one exchange at a time.

    On the preview listener (`preview`) every request goes to the version under preview
    instead of a version picked by weight.
    """

    def __init__(self, server: ProxyServer, preview: bool = False) -> None:
        self.server = server
        self.preview = preview
        self.pick = server.table.pick_preview if preview else server.table.pick
        self.holder: TunnelEnd | None = None  # once upgraded: the client's tunnel end
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer_ip = b""
        self.pipeline: deque[Exchange] = deque()
        self.parsing: Exchange | None = None
        self.to_start: Exchange | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.last_active = time.monotonic()
        # since when a request head is awaited (from the connection or the previous request)
        # and not complete; None while a request is being answered or its body read
        self.head_started: float | None = self.last_active
        self.head_bytes = 0  # of the head being read
        self.head_lines = 0
        self.read_paused = False
        self.closed = False
        self.between_messages = True  # the parser is not inside a request

    # -- asyncio.Protocol --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = self.transport.get_extra_info("peername")
        self.peer_ip = str(peer[0]).encode() if isinstance(peer, tuple) else b"unix"
        self.server.clients.add(self)

    def connection_lost(self, _exc: Exception | None) -> None:
        self.closed = True
        self.server.clients.discard(self)
        for exchange in self.pipeline:
            exchange.abort()
        self.pipeline.clear()

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        config = self.server.config
        if self.between_messages and not self.pipeline and self.holder is None:
            small = len(data) <= config.max_header_bytes
            head = plain_request(data, self.peer_ip) if small else None
            if head is not None and data.count(b"\n") - 2 > config.max_headers:
                head = None  # too many header lines: the parser path refuses it
            if head is not None:  # the common case: no parser callbacks, no rebuilt head
                self.head_started = None
                plain = Exchange(
                    self.server,
                    self,
                    head,
                    BodyMode.NONE,
                    is_head=data[0] == HEAD_FIRST_BYTE,
                    keep_alive=True,
                    http10=False,
                )
                self.pipeline.append(plain)
                plain.start()
                return
        if self.head_started is not None:
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            if not self._upgrade(data[int(exc.args[0]) :]):
                return
        except httptools.HttpParserError:
            if not self.closed:  # else already refused by a callback (431)
                self._refuse(400, b"malformed HTTP request")
            return
        if self.head_started is not None and self.head_bytes > config.max_header_bytes:
            self._refuse(431, b"request header fields too large")
            return
        exchange, self.to_start = self.to_start, None
        if exchange is not None:
            exchange.start()  # after parsing, so a small body leaves with the head

    def pause_writing(self) -> None:
        if self.pipeline and self.pipeline[0].upstream is not None:
            upstream = self.pipeline[0].upstream.transport
            if upstream is not None:
                upstream.pause_reading()

    def resume_writing(self) -> None:
        if self.pipeline and self.pipeline[0].upstream is not None:
            upstream = self.pipeline[0].upstream.transport
            if upstream is not None:
                upstream.resume_reading()

    # -- httptools callbacks -----------------------------------------------------------
    def on_message_begin(self) -> None:
        self.between_messages = False
        self.url = b""
        self.headers = []
        self.head_lines = 0
        if self.head_started is None:
            self.head_started = time.monotonic()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        self.head_lines += 1

    def on_headers_complete(self) -> None:
        config = self.server.config
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if self.head_lines > config.max_headers or size > config.max_header_bytes:
            self.parsing = None
            self._refuse(431, b"request header fields too large")
            raise httptools.HttpParserCallbackError("header limits")
        self.head_started, self.head_bytes = None, 0
        parser = self.parser
        method = parser.get_method()
        upgrade = parser.should_upgrade()
        if upgrade and method == b"CONNECT":
            self.parsing = None  # refused once the parser stops at it
            return
        head, body_mode = request_head(method, self.url, self.headers, self.peer_ip)
        if upgrade:
            head = with_upgrade(head, self.headers)
        exchange = Exchange(
            self.server,
            self,
            head,
            body_mode,
            is_head=method == b"HEAD",
            keep_alive=parser.should_keep_alive() and not upgrade,
            http10=parser.get_http_version() == "1.0",
            upgrade=upgrade,
        )
        self.parsing = exchange
        self.pipeline.append(exchange)
        if len(self.pipeline) == 1:
            self.to_start = exchange
        else:
            self.pause_reading()  # pipelined: read more once the earlier ones are answered

    def on_body(self, body: bytes) -> None:
        if self.parsing is not None:
            self.parsing.send_body(body)

    def on_message_complete(self) -> None:
        self.between_messages = True
        if self.parsing is not None:
            self.parsing.body_done()

    # -- used by exchanges -------------------------------------------------------------
    def write(self, data: list[bytes]) -> None:
        if self.transport is not None and not self.closed:
            if len(data) == 1:  # the common whole response: one send, no buffer list
                self.transport.write(data[0])
            else:
                self.transport.writelines(data)

    def pause_reading(self) -> None:
        if not self.read_paused and self.transport is not None and not self.closed:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and self.transport is not None and not self.closed:
            self.read_paused = False
            self.transport.resume_reading()

    def exchange_done(self, exchange: Exchange) -> None:
        if self.pipeline and self.pipeline[0] is exchange:
            self.pipeline.popleft()
        if self.to_start is exchange:
            self.to_start = None
        self.last_active = time.monotonic()
        if not self.pipeline and self.between_messages:
            self.head_started = None  # idle keep-alive: the idle timeout applies
        if exchange.close_client:
            self.close()
            return
        if self.pipeline:
            nxt = self.pipeline[0]
            if nxt is not self.to_start:
                nxt.start()
        if len(self.pipeline) <= 1:
            self.resume_reading()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()

    def idle(self) -> bool:
        return not self.pipeline

    def unrouted(self) -> bytes:
        """Why no version could be picked for a request of this connection."""
        return self.server.table.unrouted_preview() if self.preview else NO_WEIGHT

    def _upgrade(self, early: bytes) -> bool:
        """The parser stopped after an upgrade request: hold the client's further bytes
        for the tunnel (False when the request is refused instead)."""
        exchange = self.parsing
        if exchange is None or not exchange.upgrade or self.transport is None:
            self._refuse(501, b"CONNECT is not supported by this router")
            return False
        self.holder = hold_client(self.transport, self, early)
        return True

    def refuse(self, status: int, message: bytes) -> None:
        """Answer with an error of the router and close the connection."""
        self._refuse(status, message)

    def _refuse(self, status: int, message: bytes) -> None:
        self.head_started = None
        if not self.pipeline:  # never in the middle of another response
            self.write([simple_response(status, message, close=True)])
        self.close()
