"""The HTTP protocol of `codectl server`, run in this process on a free port: 431 for heads
over the limit, pipelined and keep-alive requests as before."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from code_engine.settings import Settings
from code_engine.transport import server_options


async def _app(scope: dict[str, object], receive: object, send: object) -> None:
    assert scope["type"] == "http"
    body = b"ok"
    await send(  # type: ignore[operator]
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": body})  # type: ignore[operator]


@pytest.fixture
def port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = int(sock.getsockname()[1])
    settings = Settings(env="dev", max_header_bytes=8192, trusted_proxies="10.0.0.1")
    options = server_options(settings)
    assert options["forwarded_allow_ips"] == ["10.0.0.1"]
    config = uvicorn.Config(_app, host="127.0.0.1", port=free, log_config=None, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield free
    server.should_exit = True
    thread.join(10)


def _exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def test_a_head_over_the_limit_is_431(port: int) -> None:
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n"
    answer = _exchange(port, big)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"headers_too_large" in answer


def test_requests_within_the_limit_keep_alive(port: int) -> None:
    one = b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"b" * 6000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(3):  # 18 KB of heads on one connection, each within the limit
            sock.sendall(one)
            answer = b""
            while not answer.endswith(b"ok"):
                answer += sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200 OK")


def test_a_body_larger_than_the_head_limit_is_not_mistaken_for_a_head(port: int) -> None:
    body = b"x" * 100_000
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + body
    assert _exchange(port, request).startswith(b"HTTP/1.1 200 ")
