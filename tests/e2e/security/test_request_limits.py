"""Bodies and headers are bounded by the server itself: 413 and 431 before anything is held."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from .server import Server

MB = 1024 * 1024


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def _head(server: Server, path: str, *lines: str) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *lines, "", ""]
    return "\r\n".join(head).encode()


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    server: Server,
) -> None:
    # the body never follows: an answer at all proves the server did not wait for it
    request = _head(
        server,
        "/api/v1/services",
        f"Authorization: Bearer {server.token}",
        "Content-Type: application/json",
        f"Content-Length: {50 * MB}",
    )
    started = time.monotonic()
    answer = server.raw(request)
    assert _status(answer) == 413
    assert b"over the limit of 1048576 bytes" in answer
    assert time.monotonic() - started < 5


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * size
        sent += size


def test_a_streamed_body_is_counted_and_refused_when_it_crosses_the_limit(
    server: Server,
) -> None:
    answer = httpx.post(
        f"{server.url}/api/v1/services",
        content=_chunks(3 * MB),  # no Content-Length: chunked
        headers={**server.headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


def test_the_event_batch_route_has_a_larger_limit(server: Server) -> None:
    body = b"[" + b" " * (3 * MB) + b"]"
    answer = httpx.post(
        f"{server.url}/api/v1/events",
        content=body,
        headers={**server.headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code != 413, answer.text
    assert answer.status_code < 500


def test_a_huge_unauthenticated_webhook_is_refused_without_being_read(server: Server) -> None:
    before = server.memory_kib("VmRSS")
    # 300 MB, streamed without a length: no signature, so nothing of it is read
    answer = httpx.post(
        f"{server.url}/api/v1/webhooks/github",
        content=_chunks(300 * MB, 1 * MB),
        headers={"X-GitHub-Event": "deployment_status", "Content-Type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 401
    # with a (wrong) signature the body is read, but only up to the limit
    answer = httpx.post(
        f"{server.url}/api/v1/webhooks/github",
        content=_chunks(300 * MB, 1 * MB),
        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
        timeout=60,
    )
    assert answer.status_code == 413
    # an API route asking for a bearer token refuses a body that comes without one
    request = _head(server, "/api/v1/webhooks/alertmanager", f"Content-Length: {300 * MB}")
    assert _status(server.raw(request)) == 413
    request = _head(server, "/api/v1/webhooks/alertmanager", "Content-Length: 100")
    assert _status(server.raw(request + b"{" * 100)) == 401
    assert server.memory_kib("VmRSS") - before < 50 * 1024


def test_a_huge_header_is_431(server: Server) -> None:
    request = (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (200 * 1024) + b"\r\n\r\n"
    )
    answer = server.raw(request)
    assert _status(answer) == 431
    assert b"headers_too_large" in answer


def test_too_many_headers_is_431(server: Server) -> None:
    lines = "".join(f"X-Header-{n}: {n}\r\n" for n in range(150))
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode()
    assert _status(server.raw(request)) == 431
    # within the limits all is as before
    assert httpx.get(f"{server.url}/healthz", headers={"X-A": "b" * 1000}).status_code == 200


def test_a_100_megabyte_header_does_not_grow_the_server(server: Server) -> None:
    before = server.memory_kib("VmRSS")
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    answer = server.raw(head + b"a" * (100 * MB) + b"\r\n\r\n", timeout=60)
    assert _status(answer) == 431
    assert server.memory_kib("VmRSS") - before < 20 * 1024
