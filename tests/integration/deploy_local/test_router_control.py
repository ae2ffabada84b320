"""The router's control API over a real Unix socket: HTTP/1.1 framing, keep-alive, errors."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from code_engine.deploy.router.control import MAX_BODY, ControlServer
from code_engine.deploy.router.proxy import ProxyServer


@pytest.fixture
def control(tmp_path: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A control server of a real proxy on its own event loop; yields its socket path."""
    path = str(tmp_path / "control.sock")
    changes: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = ControlServer(ProxyServer(), port=0, on_change=changes.append)
    asyncio.run_coroutine_threadsafe(server.start(path), loop).result(timeout=10)
    try:
        yield path, changes
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def _client(path: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(uds=path), base_url="http://router")


def _raw(path: str, data: bytes) -> bytes:
    """Send `data`, read until the server closes the connection."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_routes_answer_json_and_persist_changes(control: tuple[str, Any]) -> None:
    path, changes = control
    with _client(path) as client:
        assert client.get("/healthz").json()["ok"] is True
        put = client.put("/backends", json={"v1": ["127.0.0.1:9"]})
        assert put.status_code == 200 and put.json()["backends"] == {"v1": ["127.0.0.1:9"]}
        assert client.put("/weights", json={"v1": 100}).json()["weights"] == {"v1": 100}
        assert client.get("/stats").json() == {}
        assert client.post("/stats/reset").json() == {"ok": True}
        idle = client.get("/idle", params={"version": "v1", "timeout": "0"}).json()
        assert idle == {"idle": True, "in_flight": 0}
    assert [change["weights"] for change in changes] == [{}, {"v1": 100}]


def test_errors_use_the_api_error_shape(control: tuple[str, Any]) -> None:
    path, _ = control
    with _client(path) as client:
        missing = client.get("/nowhere")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        bad = client.put("/weights", content=b"[1, 2]")
        assert bad.status_code == 400 and "expected a JSON object" in bad.text
        refused = client.put("/weights", json={"ghost": 100})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"


def test_keep_alive_and_pipelined_requests_are_answered_in_order(
    control: tuple[str, Any],
) -> None:
    path, _ = control
    request = b"GET /healthz HTTP/1.1\r\nHost: router\r\n\r\n"
    closing = b"GET /config HTTP/1.1\r\nHost: router\r\nConnection: close\r\n\r\n"
    answer = _raw(path, request + request + closing)
    heads = answer.split(b"HTTP/1.1 ")[1:]
    assert len(heads) == 3 and all(head.startswith(b"200") for head in heads)
    assert json.loads(answer.rsplit(b"\r\n\r\n", 1)[1])["weights"] == {}


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
        b"PUT /weights HTTP/1.1\r\nHost: r\r\ncontent-length: %d\r\n\r\n" % (MAX_BODY + 1)
        + b"x" * (MAX_BODY + 1),
    ],
)
def test_a_broken_or_oversized_request_closes_the_connection_unanswered(
    control: tuple[str, Any], request_bytes: bytes
) -> None:
    path, changes = control
    assert _raw(path, request_bytes) == b""
    assert changes == []
    with _client(path) as client:  # the server still serves the next client
        assert client.get("/healthz").status_code == 200
