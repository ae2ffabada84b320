"""The tunnel's bookkeeping: held bytes, flow control before and after it opens, and one
close for both sides (transports recorded, no sockets)."""

from __future__ import annotations

import asyncio
from typing import cast

from code_engine.deploy.router.tunnel import MAX_HELD, TunnelEnd, hold_client, open_tunnel


class Transport:
    """Records what a tunnel does to a transport."""

    def __init__(self) -> None:
        self.protocol: asyncio.BaseProtocol | None = None
        self.written: list[bytes] = []
        self.paused = False
        self.closed = False

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def writelines(self, data: list[bytes]) -> None:
        self.written += data

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def close(self) -> None:
        self.closed = True


class Owner(asyncio.Protocol):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_writing(self) -> None:
        self.calls.append("pause")

    def resume_writing(self) -> None:
        self.calls.append("resume")

    def connection_lost(self, exc: Exception | None) -> None:
        self.calls.append("lost")


def _transport(fake: Transport) -> asyncio.Transport:
    return cast(asyncio.Transport, fake)


def test_before_the_tunnel_opens_bytes_are_held_and_the_owner_is_told() -> None:
    client, owner = Transport(), Owner()
    end = hold_client(_transport(client), owner, b"early")
    assert client.protocol is end and end.held == [b"early"]
    end.data_received(b"x" * MAX_HELD)
    assert client.paused  # beyond the limit: reading pauses until the tunnel opens
    end.pause_writing()
    end.resume_writing()
    assert end.eof_received() is None
    end.connection_lost(None)
    assert owner.calls == ["pause", "resume", "lost"]


def test_an_open_tunnel_pipes_both_ways_with_flow_control_and_closes_once() -> None:
    client, upstream, owner = Transport(), Transport(), Owner()
    end = hold_client(_transport(client), owner, b"held")
    client.paused = True
    closed: list[bool] = []
    open_tunnel(end, _transport(upstream), lambda: closed.append(True))
    assert upstream.written == [b"held"] and not client.paused
    instance = cast(TunnelEnd, upstream.protocol)
    end.data_received(b"to instance")
    instance.data_received(b"to client")
    assert upstream.written[-1] == b"to instance" and client.written == [b"to client"]
    end.pause_writing()  # the client cannot take more: stop reading the instance
    assert upstream.paused
    end.resume_writing()
    assert not upstream.paused
    instance.pause_writing()
    assert client.paused
    instance.resume_writing()
    assert not client.paused
    instance.connection_lost(None)
    end.connection_lost(None)
    assert client.closed and upstream.closed and closed == [True]
    assert owner.calls == []  # the owner is out of the picture once the tunnel opened


def test_a_lone_end_ignores_flow_control() -> None:
    end = TunnelEnd(_transport(Transport()))
    end.pause_writing()
    end.resume_writing()
    end.connection_lost(None)
    assert end.peer is None
