"""The builtin proxy against misbehaving instances (raw sockets) and its control API."""

from __future__ import annotations

import asyncio
import json
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from code_engine.deploy.router import InProcessRouter
from code_engine.deploy.router.control import ControlServer
from code_engine.deploy.router.proxy import ProxyConfig, ProxyServer
from code_engine.deploy.router.serve import parse_args, restore

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


class Upstream(socketserver.ThreadingTCPServer):
    """An instance that answers each request with `behave(request_number)` bytes, then
    keeps the connection (None) or closes it (True)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behave: Callable[[int], tuple[bytes, bool]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behave = behave
        self.count = 0
        self.lock = threading.Lock()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, Upstream)
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                data = self.request.recv(65536)
                if not data:
                    return
                buffer += data
            _, buffer = buffer.split(b"\r\n\r\n", 1)
            with server.lock:
                server.count += 1
                number = server.count
            answer, close = server.behave(number)
            self.request.sendall(answer)
            if close:
                return


@pytest.fixture
def upstream() -> Iterator[Callable[[Callable[[int], tuple[bytes, bool]]], Upstream]]:
    servers: list[Upstream] = []

    def start(behave: Callable[[int], tuple[bytes, bool]]) -> Upstream:
        server = Upstream(behave)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def proxy() -> Iterator[InProcessRouter]:
    router = InProcessRouter(config=ProxyConfig(response_timeout=1.0, sweep_interval=0.1))
    yield router
    router.close()


def _route(proxy: InProcessRouter, address: str) -> httpx.Client:
    proxy.set_backends({"v": [address]})
    proxy.set_weights({"v": 100})
    return httpx.Client(base_url=f"http://127.0.0.1:{proxy.port}", timeout=30)


def test_a_pooled_connection_the_instance_closed_is_retried_transparently(
    proxy: InProcessRouter, upstream: Callable[..., Upstream]
) -> None:
    # keep-alive announced, yet every connection is closed after its answer: the proxy
    # learns it only when it reuses the connection, and must retry on a fresh one
    server = upstream(lambda _n: (OK, True))
    with _route(proxy, server.address) as client:
        assert [client.get("/").status_code for _ in range(10)] == [200] * 10
    assert proxy.stats()["v"].errors == 0


def test_a_close_delimited_body_reaches_http11_clients_chunked(
    proxy: InProcessRouter, upstream: Callable[..., Upstream]
) -> None:
    server = upstream(
        lambda _n: (b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\n" + b"x" * 5000, True)
    )
    with _route(proxy, server.address) as client:
        response = client.get("/")
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.content == b"x" * 5000


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (b"", 502),
        (b"NOT HTTP AT ALL\r\n\r\n", 502),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", 200),
    ],
)
def test_broken_instances_give_errors_counted_for_their_version(
    proxy: InProcessRouter, upstream: Callable[..., Upstream], answer: bytes, status: int
) -> None:
    server = upstream(lambda _n: (answer, True))
    with _route(proxy, server.address) as client:
        if status == 200:  # the head made it, the body did not: the client sees a cut
            with pytest.raises(httpx.RemoteProtocolError):
                client.get("/")
        else:
            assert client.get("/").status_code == status
    assert proxy.stats()["v"].errors == 1


def test_an_instance_that_never_answers_gets_a_504(
    proxy: InProcessRouter, upstream: Callable[..., Upstream]
) -> None:
    event = threading.Event()
    server = upstream(lambda _n: (event.wait(10) and b"", True))
    try:
        with _route(proxy, server.address) as client:
            assert client.get("/").status_code == 504
    finally:
        event.set()
    assert proxy.stats()["v"].errors == 1


def test_interim_responses_and_large_uploads_pass_through(
    proxy: InProcessRouter, upstream: Callable[..., Upstream]
) -> None:
    server = upstream(lambda _n: (b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n" + OK, False))
    with _route(proxy, server.address) as client:
        assert client.get("/").text == "ok"
    body = b"y" * 3_000_000
    raw = socket.create_connection(("127.0.0.1", proxy.port), timeout=30)
    with raw:
        raw.sendall(b"POST / HTTP/1.1\r\nHost: t\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        answer = raw.recv(65536)
    assert b"200 OK" in answer


def test_no_weight_means_503_and_a_bad_request_means_400(proxy: InProcessRouter) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{proxy.port}", timeout=30) as client:
        assert client.get("/").status_code == 503
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as raw:
        raw.sendall(b"GARBAGE\r\n\r\n")
        assert raw.recv(65536).startswith(b"HTTP/1.1 400")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as raw:
        raw.sendall(
            b"GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        )
        assert raw.recv(65536).startswith(b"HTTP/1.1 503")  # routed like any request
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as raw:
        raw.sendall(b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
        assert raw.recv(65536).startswith(b"HTTP/1.1 501")


def test_control_api_routes_and_errors(tmp_path: Path) -> None:
    async def scenario() -> None:
        proxy = ProxyServer()
        saved: list[dict[str, object]] = []
        control = ControlServer(proxy, 1234, on_change=saved.append)

        async def call(method: str, target: str, body: object = None) -> tuple[int, object]:
            data = json.dumps(body).encode() if body is not None else b""
            return await control.handle(method, target, data)

        assert (await call("GET", "/healthz"))[0] == 200
        assert (await call("PUT", "/backends", {"v1": ["127.0.0.1:9"]}))[0] == 200
        status, config = await call("PUT", "/weights", {"v1": 100})
        assert status == 200 and config == {
            "backends": {"v1": ["127.0.0.1:9"]},
            "weights": {"v1": 100},
            "preview": None,
        }
        assert saved[-1] == config
        status, error = await call("PUT", "/weights", {"v2": 1})
        assert status == 409 and error["error"]["code"] == "conflict"  # type: ignore[index]
        assert (await call("PUT", "/weights", [1]))[0] == 400
        assert (await call("GET", "/idle?version=v1&timeout=0"))[1] == {
            "idle": True,
            "in_flight": 0,
        }
        assert (await call("POST", "/stats/reset"))[0] == 200
        assert (await call("GET", "/stats"))[1] == {}
        assert (await call("DELETE", "/nothing"))[0] == 404
        # what a restarted router finds in its state file
        state = tmp_path / "router.json"
        state.write_text(json.dumps(config))
        fresh = ProxyServer()
        restore(fresh, parse_args(["--port", "1", "--control", "x:1", "--state", str(state)]).state)
        assert fresh.table.to_json() == config

    asyncio.run(scenario())
