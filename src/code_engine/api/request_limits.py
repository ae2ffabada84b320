"""Requests are bounded before anything reads them: header count, then body size.

More headers than the limit are answered 431 (their total size is bounded earlier, by the
HTTP parser: see code_engine/transport.py).

A declared `Content-Length` over the route's limit is answered 413 at once, without reading
a byte; a chunked body is counted as it streams and refused as soon as it crosses the
limit. An API request with a body but no credentials at all is answered 401 before its
body is read (the open routes, `/oauth/token` and GitHub's signed webhook, excepted).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# routes that authenticate in their body or by a signature, not by a bearer header
OPEN_PREFIXES = ("/oauth/", "/api/v1/webhooks/github")


@dataclass(frozen=True)
class RequestLimits:
    """The default body limit and larger ones for path prefixes (longest prefix wins)."""

    default: int
    by_prefix: Sequence[tuple[str, int]] = ()
    max_headers: int = 100

    def for_path(self, path: str) -> int:
        best, limit = -1, self.default
        for prefix, value in self.by_prefix:
            if path.startswith(prefix) and len(prefix) > best:
                best, limit = len(prefix), value
        return limit


class RequestLimitMiddleware:
    """Pure ASGI, so that nothing upstream has buffered the body first."""

    def __init__(self, app: ASGIApp, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.limits.for_path(path)
        raw_headers = scope.get("headers") or []
        if len(raw_headers) > self.limits.max_headers:
            message = f"more than {self.limits.max_headers} request headers"
            await _refuse(send, 431, "headers_too_large", message)
            return
        headers = dict(raw_headers)
        declared = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _refuse(send, 400, "bad_request", "Content-Length is not a number")
                return
            if length > limit:
                await _refuse(send, 413, "too_large", _too_large(limit))
                return
        has_body = chunked or (declared is not None and declared.strip() not in (b"", b"0"))
        if has_body and _needs_bearer(path) and b"authorization" not in headers:
            await _refuse(send, 401, "unauthorized", "no credentials", bearer=True)
            return
        await self.app(scope, _counting(receive, limit), send)


def _needs_bearer(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(OPEN_PREFIXES)


def _too_large(limit: int) -> str:
    return f"request body over the limit of {limit} bytes"


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # raised inside the app, which renders it as the usual JSON error
                raise HTTPException(413, _too_large(limit))
        return message

    return counted


async def _refuse(
    send: Send, status: int, code: str, message: str, *, bearer: bool = False
) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the unread body stays unread
    ]
    if bearer:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
