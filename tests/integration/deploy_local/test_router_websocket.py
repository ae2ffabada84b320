"""WebSocket (and any `Upgrade:` protocol) through the routers: a real `websockets` client,
the hello example's `/ws` echo behind a builtin router process, the builtin proxy on an
asyncio loop in this process, and HAProxy."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect as connect_sync

from code_engine.deploy.local.ports import free_port
from code_engine.deploy.router import (
    HAProxyRouter,
    HAProxySettings,
    InProcessRouter,
    RouterLaunch,
    TrafficRouter,
    ensure_router,
    stop_router,
)


class Tunnelled:
    """A router routing all of its traffic to `v1`, and its URLs."""

    def __init__(self, kind: str, router: TrafficRouter, port: int) -> None:
        self.kind = kind
        self.router = router
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"
        self.port = port

    def in_flight(self) -> int:
        stats = self.router.stats().get("v1")
        return 0 if stats is None else stats.in_flight


@pytest.fixture(scope="module", params=["builtin", "inprocess", "haproxy"])
def tunnelled(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    hello_backends: dict[str, list[str]],
) -> Iterator[Tunnelled]:
    workdir = tmp_path_factory.mktemp(f"ws-{request.param}")
    backends = {"v1": hello_backends["v1"]}
    if request.param == "builtin":
        launch = RouterLaunch.for_environment(workdir, "hello", "ws", free_port())
        builtin = ensure_router(launch)
        builtin.set_backends(backends)
        builtin.set_weights({"v1": 100})
        yield Tunnelled("builtin", builtin, launch.port)
        stop_router(builtin, timeout=5)
        builtin.close()
    elif request.param == "inprocess":  # asyncio's own loop, where the process runs uvloop
        inprocess = InProcessRouter()
        inprocess.set_backends(backends)
        inprocess.set_weights({"v1": 100})
        yield Tunnelled("inprocess", inprocess, inprocess.port)
        inprocess.close()
    else:
        binary = request.getfixturevalue("haproxy_binary")
        settings = HAProxySettings(workdir=workdir, port=free_port(), binary=binary)
        haproxy = HAProxyRouter(settings)
        haproxy.set_backends(backends)
        haproxy.set_weights({"v1": 100})
        yield Tunnelled("haproxy", haproxy, settings.port)
        haproxy.stop()


def test_messages_echo_through_the_tunnel(tunnelled: Tunnelled) -> None:
    big = os.urandom(3_000_000)  # well beyond every buffer: flow control both ways
    with connect_sync(f"{tunnelled.ws}/ws", max_size=None) as ws:
        ws.send("hello")
        assert ws.recv() == "hello"
        ws.send(b"\x00\x01\x02")
        assert ws.recv() == b"\x00\x01\x02"
        ws.send(big)
        assert ws.recv() == big


def test_many_tunnels_at_once_and_plain_requests_beside_them(
    tunnelled: Tunnelled, wait_for: Callable[..., object]
) -> None:
    count = 20

    async def scenario() -> None:
        ready = asyncio.Event()
        release = asyncio.Event()
        connected = 0

        async def client(number: int) -> list[str]:
            nonlocal connected
            async with connect(f"{tunnelled.ws}/ws") as ws:
                connected += 1
                if connected == count:
                    ready.set()
                await release.wait()
                answers = []
                for index in range(5):
                    await ws.send(f"{number}-{index}")
                    answers.append(str(await ws.recv()))
                return answers

        async def plain_requests() -> None:
            await ready.wait()
            if tunnelled.kind != "haproxy":  # HAProxy keeps no per-version in-flight gauge
                assert await asyncio.to_thread(tunnelled.in_flight) == count
            async with httpx.AsyncClient(base_url=tunnelled.http, timeout=30) as http:
                for _ in range(20):  # keep-alive requests on their own connection
                    response = await http.get("/")
                    assert response.json()["version"] == "v1"
            release.set()

        results = await asyncio.gather(*(client(n) for n in range(count)), plain_requests())
        for number, answers in enumerate(results[:count]):
            assert answers == [f"{number}-{index}" for index in range(5)]

    asyncio.run(asyncio.wait_for(scenario(), 60))
    if tunnelled.kind != "haproxy":
        wait_for(lambda: tunnelled.in_flight() == 0, timeout=10)


# HAProxy keeps no per-version in-flight gauge to watch: the builtin router only.
@pytest.mark.parametrize("tunnelled", ["builtin", "inprocess"], indirect=True)
def test_a_client_closing_closes_the_instance_side(
    tunnelled: Tunnelled, wait_for: Callable[..., object]
) -> None:
    tunnelled.router.reset_stats()
    with connect_sync(f"{tunnelled.ws}/ws") as ws:
        ws.send("x")
        assert ws.recv() == "x"
        assert tunnelled.in_flight() == 1
        assert tunnelled.router.wait_idle("v1", timeout=0.2) is False  # draining waits for it
        ws.close()
    wait_for(lambda: tunnelled.in_flight() == 0, timeout=10)
    assert tunnelled.router.wait_idle("v1", timeout=1) is True
    stats = tunnelled.router.stats()["v1"]
    assert (stats.requests, stats.errors) == (1, 0)  # recorded once the tunnel ended


def test_the_instance_closing_closes_the_client_side(tunnelled: Tunnelled) -> None:
    with connect_sync(f"{tunnelled.ws}/ws") as ws:
        ws.send("close")  # the hello instance closes with code 1000
        with pytest.raises(ConnectionClosedOK) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


def test_an_upgrade_the_instance_refuses_is_a_plain_response(tunnelled: Tunnelled) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect_sync(f"{tunnelled.ws}/no-such-socket")
    response = refused.value.response
    assert response.status_code == 404
    assert b'"path": "/no-such-socket"' in response.body
    with httpx.Client(base_url=tunnelled.http, timeout=30) as http:  # still serving
        assert http.get("/").status_code == 200


def _masked_text_frame(text: bytes) -> bytes:
    mask = os.urandom(4)
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
    return struct.pack("!BB", 0x81, 0x80 | len(text)) + mask + payload


def test_bytes_sent_right_after_the_request_head_reach_the_instance(
    tunnelled: Tunnelled,
) -> None:
    key = base64.b64encode(os.urandom(16))
    handshake = (
        b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", tunnelled.port), timeout=30) as sock:
        sock.sendall(handshake + _masked_text_frame(b"early"))  # one packet
        received = b""
        while b"early" not in received:
            data = sock.recv(65536)
            assert data, received
            received += data
    head, _, frame = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    assert b"upgrade: websocket" in head.lower()
    assert frame == b"\x81\x05early"


def _upgrading_instance(conn: socket.socket, heads: list[bytes]) -> None:
    """Answers plain requests `ok`; an upgrade to `shout` with 101, then echoes upper-cased."""
    with conn:
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            heads.append(head)
            if b"upgrade: shout" not in head.lower():
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                continue
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: shout\r\nConnection: Upgrade\r\n"
                b"\r\n" + buffer.upper()
            )
            while data := conn.recv(65536):
                conn.sendall(data.upper())
            return


def test_a_pipelined_upgrade_waits_for_the_requests_before_it(
    wait_for: Callable[..., object],
) -> None:
    heads: list[bytes] = []

    def serve(listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_upgrading_instance, args=(conn, heads), daemon=True).start()

    with socket.create_server(("127.0.0.1", 0)) as listener:
        threading.Thread(target=serve, args=(listener,), daemon=True).start()
        router = InProcessRouter()
        try:
            router.set_backends({"v1": [f"127.0.0.1:{listener.getsockname()[1]}"]})
            router.set_weights({"v1": 100})
            with socket.create_connection(("127.0.0.1", router.port), timeout=30) as sock:
                sock.sendall(
                    b"GET /first HTTP/1.1\r\nHost: t\r\n\r\n"
                    b"GET /up HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Upgrade\r\n"
                    b"Upgrade: shout\r\nX-Hop: 1\r\n\r\nhello"
                )
                received = b""
                while not received.endswith(b"HELLO"):
                    data = sock.recv(65536)
                    assert data, received
                    received += data
                sock.sendall(b" again")
                while not received.endswith(b"AGAIN"):
                    received += sock.recv(65536)
            assert received.startswith(b"HTTP/1.1 200 OK")
            assert b"HTTP/1.1 101 Switching Protocols" in received
            assert b"connection: upgrade\r\n" in received.lower()
            upgrade = heads[-1].lower()
            assert b"upgrade: shout" in upgrade and b"connection: upgrade" in upgrade
            assert b"keep-alive" not in upgrade
            wait_for(lambda: router.stats()["v1"].in_flight == 0, timeout=10)
            assert router.stats()["v1"].requests == 2
        finally:
            router.close()
