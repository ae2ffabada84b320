"""The `hello` example service: a tiny ASGI app with knobs to rehearse bad releases.

Environment knobs (read once when the app is created):

- `HELLO_VERSION`: reported by `/` (default `dev`).
- `HELLO_ERROR_RATE`: fraction 0..1 of `/`, `/work` and `/echo` requests answered 500.
  Errors are spread by a counter, so 0.05 fails exactly 1 request in 20.
- `HELLO_LATENCY_MS`: latency added to every request except `/healthz`.
- `HELLO_FAIL_HEALTH`: when `1`/`true`, `/healthz` answers 503.
- `HELLO_SLOW_RATE` and `HELLO_SLOW_MS`: fraction 0..1 of `/` requests that take
  `HELLO_SLOW_MS` more (spread by a counter like errors): a tail, or a hang when long.
- `HELLO_START_DELAY_MS`: the instance takes this long to start listening.

WebSocket `/ws` echoes every message back; the text message `close` makes the instance
close the connection (code 1000). Other WebSocket paths are refused with a 404.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class Knobs:
    """The behaviour of one instance, taken from its environment."""

    version: str = "dev"
    error_rate: float = 0.0
    latency_ms: float = 0.0
    fail_health: bool = False
    slow_rate: float = 0.0
    slow_ms: float = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Knobs:
        rate = float(env.get("HELLO_ERROR_RATE", "0") or 0)
        slow = float(env.get("HELLO_SLOW_RATE", "0") or 0)
        return cls(
            version=env.get("HELLO_VERSION", "dev"),
            error_rate=min(max(rate, 0.0), 1.0),
            latency_ms=float(env.get("HELLO_LATENCY_MS", "0") or 0),
            fail_health=env.get("HELLO_FAIL_HEALTH", "").lower() in TRUE_VALUES,
            slow_rate=min(max(slow, 0.0), 1.0),
            slow_ms=float(env.get("HELLO_SLOW_MS", "0") or 0),
        )


class ErrorBudget:
    """Decides which requests fail: request n fails when floor(n*rate) steps up."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.count = 0

    def next_fails(self) -> bool:
        self.count += 1
        return int(self.count * self.rate) > int((self.count - 1) * self.rate)


async def send_json(send: Send, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def stream(send: Send, chunks: int, size: int) -> None:
    """A chunked response: no content-length, several body messages."""
    headers = [(b"content-type", b"application/octet-stream")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for index in range(chunks):
        body = bytes([ord("a") + index % 26]) * size
        await send({"type": "http.response.body", "body": body, "more_body": True})
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b""})


async def websocket(scope: Scope, receive: Receive, send: Send) -> None:
    """`/ws`: an echo; anything else is refused with an HTTP 404 (or 403 without the
    server's denial-response extension)."""
    await receive()  # websocket.connect
    if scope["path"] != "/ws":
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008})
            return
        payload = json.dumps({"error": "not found", "path": scope["path"]}).encode()
        headers = [(b"content-type", b"application/json")]
        headers.append((b"content-length", b"%d" % len(payload)))
        start = {"type": "websocket.http.response.start", "status": 404, "headers": headers}
        await send(start)
        await send({"type": "websocket.http.response.body", "body": payload})
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") == "close":
            await send({"type": "websocket.close", "code": 1000})
            return
        reply: Message = {"type": "websocket.send"}
        if message.get("text") is not None:
            reply["text"] = message["text"]
        else:
            reply["bytes"] = message.get("bytes") or b""
        await send(reply)


def create_app(env: Mapping[str, str]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Build the ASGI callable for the knobs found in `env`."""
    knobs = Knobs.from_env(env)
    budget = ErrorBudget(knobs.error_rate)
    slow = ErrorBudget(knobs.slow_rate)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/healthz":
            ok = not knobs.fail_health
            await send_json(send, 200 if ok else 503, {"ok": ok, "version": knobs.version})
            return
        query = parse_qs(scope.get("query_string", b"").decode())
        delay_ms = knobs.latency_ms + (float(query["ms"][0]) if path == "/work" else 0.0)
        if path == "/" and knobs.slow_ms > 0 and slow.next_fails():
            delay_ms += knobs.slow_ms
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        if path == "/stream":
            chunks, size = int(query.get("chunks", ["4"])[0]), int(query.get("size", ["16"])[0])
            await stream(send, chunks, size)
        elif path not in ("/", "/work", "/echo"):
            await send_json(send, 404, {"error": "not found", "path": path})
        elif budget.next_fails():
            await send_json(send, 500, {"error": "injected failure", "version": knobs.version})
        elif path == "/echo":
            body = await read_body(receive)
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            reply = {"version": knobs.version, "body": body.decode(errors="replace")}
            await send_json(send, 200, {**reply, "headers": headers})
        else:
            await send_json(send, 200, {"service": "hello", "version": knobs.version})

    return app


time.sleep(float(os.environ.get("HELLO_START_DELAY_MS", "0") or 0) / 1000)
app = create_app(os.environ)
