"""Upgraded connections (WebSocket and other `Upgrade:` protocols): bytes piped both ways.

Once the instance answers `101 Switching Protocols`, the client's and the instance's
transports get a `TunnelEnd` each as their protocol: what one end reads the other writes,
with flow control (a full write buffer on one side pauses reading on the other), until
either side closes; then both are closed.

The client's end is installed as soon as the upgrade request is parsed: bytes the client
sends before the instance has answered are held (reading pauses beyond `MAX_HELD`) and
go to the instance once the tunnel opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

MAX_HELD = 256 * 1024


class TunnelEnd(asyncio.Protocol):
    """One side of a tunnel; before the tunnel opens, `owner` still gets flow control and
    the connection's loss."""

    def __init__(self, transport: asyncio.Transport, owner: asyncio.Protocol | None = None):
        self.transport = transport
        self.owner = owner
        self.peer: TunnelEnd | None = None
        self.on_lost: Callable[[], None] | None = None
        self.held: list[bytes] = []
        self.held_size = 0

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is not None:
            peer.transport.write(data)
            return
        self.held.append(data)
        self.held_size += len(data)
        if self.held_size > MAX_HELD:
            self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        return None  # the transport closes, which closes the tunnel

    def pause_writing(self) -> None:
        if self.peer is not None:
            self.peer.transport.pause_reading()
        elif self.owner is not None:
            self.owner.pause_writing()

    def resume_writing(self) -> None:
        if self.peer is not None:
            self.peer.transport.resume_reading()
        elif self.owner is not None:
            self.owner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.on_lost is not None:
            self.on_lost()
        elif self.owner is not None:
            self.owner.connection_lost(exc)


def hold_client(transport: asyncio.Transport, owner: asyncio.Protocol, early: bytes) -> TunnelEnd:
    """Stop parsing the client's bytes: hold them (from `early` on) for the tunnel."""
    end = TunnelEnd(transport, owner)
    transport.set_protocol(end)
    if early:
        end.data_received(early)
    return end


def open_tunnel(
    client: TunnelEnd, upstream: asyncio.Transport, on_closed: Callable[[], None]
) -> None:
    """Pipe `client` and `upstream` together; `on_closed` runs once, when either closes."""
    instance = TunnelEnd(upstream)
    upstream.set_protocol(instance)
    client.peer, instance.peer = instance, client
    client.owner = None
    closed = False

    def lost() -> None:
        nonlocal closed
        if closed:
            return
        closed = True
        client.transport.close()  # after writing what is buffered
        upstream.close()
        on_closed()

    client.on_lost = instance.on_lost = lost
    if client.held:
        upstream.writelines(client.held)
        client.held, client.held_size = [], 0
    client.transport.resume_reading()
