"""How `codectl server` speaks HTTP: uvicorn's httptools parser with a bound on the request head.

httptools buffers a request line and headers of any size; this protocol counts the bytes of
each request's head as they arrive and answers 431 Request Header Fields Too Large (then
closes) as soon as they pass `CODE_MAX_HEADER_BYTES`, so a 100 MB header costs at most
one socket read of memory. The number of headers is checked by the request limits
middleware (api/request_limits.py).
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from code_engine.settings import Settings

_BODY = json.dumps(
    {
        "error": {
            "code": "headers_too_large",
            "message": "request headers too large",
            "details": None,
        }
    }
).encode()
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\nconnection: close\r\n"
    + f"content-length: {len(_BODY)}\r\n\r\n".encode()
    + _BODY
)


class HeadTooLargeError(Exception):
    """Raised inside the parser's callback to stop it."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over `max_head` bytes."""

    max_head = 32_768

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._too_large = False

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # still inside a head after this read (a complete request resets the count), and
        # over the limit: refuse before more comes
        if self._in_head and self._head_bytes > self.max_head and not self.transport.is_closing():
            self.transport.write(TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._in_head = False
        # a head that arrived in one read: measured now that it is parsed
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_head:
            self._too_large = True
            raise HeadTooLargeError  # httptools stops; uvicorn calls send_400_response
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._too_large:
            super().send_400_response(msg)
            return
        self.transport.write(TOO_LARGE)
        self.transport.close()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of `uvicorn.run` that bound what one request may make us hold."""
    protocol = type(
        "HttpProtocol", (BoundedHttpToolsProtocol,), {"max_head": settings.max_header_bytes}
    )
    proxies = [entry.strip() for entry in settings.trusted_proxies.split(",") if entry.strip()]
    return {
        "http": protocol,
        # X-Forwarded-For/-Proto only from the proxies named: anyone else could claim
        # another address (escaping the sign-in limits) or https (for Secure cookies)
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
    }
