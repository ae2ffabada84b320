"""Connections to the instances behind the proxy, kept alive and pooled per address."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

import httptools

from code_engine.deploy.router.table import Address

# In a lowered response head: a hop-by-hop header or a folded line, either of which
# rules out forwarding the response untouched.
RAW_UNSAFE = re.compile(
    rb"\r\n(?:connection|keep-alive|transfer-encoding|upgrade|proxy-|trailer|te:)|\n[ \t]"
)

if TYPE_CHECKING:
    from code_engine.deploy.router.exchange import Exchange


class UpstreamConnection(asyncio.Protocol):
    """One keep-alive connection to an instance; serves one exchange at a time."""

    def __init__(self, pool: UpstreamPool, address: Address) -> None:
        self.pool = pool
        self.address = address
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.parser: httptools.HttpResponseParser | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.reason = b""
        self.no_body = False
        self.interim = False
        self.fresh = False
        self.closed = False
        self.idle_since = 0.0

    # -- asyncio.Protocol --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        exchange = self.exchange
        if exchange is None:
            self.close()  # an idle connection has nothing to say
            return
        if self.fresh:
            self.fresh = False
            if exchange.passthrough_ok and self._passthrough(exchange, data):
                return
        parser = self.parser
        if parser is None:
            parser = self.parser = httptools.HttpResponseParser(self)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            if exchange.upgrade and exchange.status == 101:
                exchange.switch(self, data[int(exc.args[0]) :])
                return
            self.discard()  # switched protocols though nobody asked
            exchange.upstream_lost(self, failed=True)
            return
        except httptools.HttpParserError:
            self.discard()
            exchange.upstream_lost(self, failed=True)
            return
        exchange.flush()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, _exc: Exception | None) -> None:
        self.closed = True
        exchange, self.exchange = self.exchange, None
        if exchange is not None:
            exchange.upstream_lost(self, failed=False)

    def pause_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.client.pause_reading()

    def resume_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.client.resume_reading()

    # -- exchange binding --------------------------------------------------------------
    def bind(self, exchange: Exchange, no_body: bool) -> None:
        self.exchange = exchange
        self.fresh = True
        self.headers = []
        self.reason = b""
        self.no_body = no_body
        self.interim = False

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def writelines(self, data: Iterable[bytes]) -> None:
        if self.transport is not None:
            self.transport.writelines(data)

    def discard(self) -> None:
        """Unbind from the exchange and close: nothing more is reported to it."""
        self.exchange = None
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _passthrough(self, exchange: Exchange, data: bytes) -> bool:
        """Forward a plain response that arrived whole, as it is, without parsing callbacks.

        Only a keep-alive HTTP/1.1 response with one Content-Length, no hop-by-hop header
        and nothing after its body qualifies; anything else goes through the parser.
        """
        end = data.find(b"\r\n\r\n")
        if end < 0 or not data.startswith(b"HTTP/1.1 "):
            return False
        head = data[: end + 2].lower()
        if RAW_UNSAFE.search(head):
            return False
        start = head.find(b"\r\ncontent-length:")
        if start < 0 or head.count(b"\r\ncontent-length:") != 1:
            return False
        value = head[start + 17 : head.find(b"\r\n", start + 2)]
        if not value.strip().isdigit() or len(data) != end + 4 + int(value):
            return False
        status = int(data[9:12]) if data[9:12].isdigit() else 0
        if status < 200 or status in (204, 304):
            return False
        exchange.response_whole(status, data)
        self._complete(keep_alive=True)
        return True

    # -- httptools callbacks -----------------------------------------------------------
    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        exchange, parser = self.exchange, self.parser
        if exchange is None or parser is None:
            return
        status = parser.get_status_code()
        if status < 200:
            self.interim = True  # no message of its own; a 101 ends in `switch`
            if status == 101 and exchange.upgrade:
                exchange.response_switching(self.reason, self.headers)
                return
            exchange.response_interim(status, self.reason, self.headers)
            self.headers, self.reason = [], b""
            return
        no_body = self.no_body or status in (204, 304)
        exchange.response_head(status, self.reason, self.headers, no_body)
        if self.no_body:
            # A response to HEAD announces a length but carries no body: done already.
            self._complete(keep_alive=parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.response_body(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        if self.exchange is not None and self.parser is not None:
            self._complete(keep_alive=self.parser.should_keep_alive())

    def _complete(self, keep_alive: bool) -> None:
        exchange, self.exchange = self.exchange, None
        if self.no_body:
            self.parser = None  # it still expects the announced body: start afresh
        if not keep_alive:
            self.close()
        if exchange is not None:
            exchange.response_complete(self)


class UpstreamPool:
    """Idle keep-alive connections per instance address (last in, first out)."""

    def __init__(self, connect_timeout: float, max_idle_per_address: int) -> None:
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle_per_address
        self.idle: dict[Address, list[UpstreamConnection]] = {}
        self.allowed: set[Address] = set()

    def acquire(self, address: Address) -> UpstreamConnection | None:
        stack = self.idle.get(address)
        while stack:
            conn = stack.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
        return None

    async def connect(self, address: Address) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        _, conn = await asyncio.wait_for(
            loop.create_connection(lambda: UpstreamConnection(self, address), *address),
            self.connect_timeout,
        )
        return conn

    def release(self, conn: UpstreamConnection) -> None:
        """Keep a connection whose exchange finished cleanly, or close it."""
        if conn.closed or conn.address not in self.allowed:
            conn.close()
            return
        stack = self.idle.setdefault(conn.address, [])
        if len(stack) >= self.max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        stack.append(conn)

    def retain(self, addresses: set[Address]) -> None:
        """Only these addresses stay routable; idle connections to others are closed."""
        self.allowed = set(addresses)
        for address in list(self.idle):
            if address not in self.allowed:
                for conn in self.idle.pop(address):
                    conn.close()

    def sweep(self, now: float, idle_timeout: float) -> None:
        """Close connections idle longer than the instances' own keep-alive would allow."""
        for stack in self.idle.values():
            if stack and now - stack[0].idle_since > idle_timeout:
                keep = []
                for conn in stack:
                    if now - conn.idle_since <= idle_timeout and not conn.closed:
                        keep.append(conn)
                    else:
                        conn.close()
                stack[:] = keep

    def close(self) -> None:
        self.retain(set())
