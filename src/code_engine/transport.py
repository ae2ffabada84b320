"""How `codectl server` speaks HTTP: h11 with a bound on the request head.

httptools, uvicorn's default parser when installed, accepts request heads of any size; h11
buffers at most `max_incomplete_event_size` bytes of an unfinished head and then fails.
That failure is answered 431 Request Header Fields Too Large (uvicorn itself says 400).
"""

from __future__ import annotations

from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from code_engine.settings import Settings


class _Connection(h11.Connection):
    """An h11 connection that remembers why it last refused the peer."""

    refused_with: int = 400

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.refused_with = exc.error_status_hint
            raise


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering an oversized request head with 431."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = self.config.h11_max_incomplete_event_size
        self.conn = _Connection(h11.SERVER, max_incomplete_event_size=limit or 16 * 1024)

    def send_400_response(self, msg: str) -> None:
        connection = self.conn
        if not isinstance(connection, _Connection) or connection.refused_with != 431:
            super().send_400_response(msg)
            return
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        body = b'{"error": {"code": "headers_too_large", "message": "request headers too large"}}'
        event = h11.Response(
            status_code=431, headers=headers, reason=b"Request Header Fields Too Large"
        )
        for part in (event, h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(connection.send(part) or b"")
        self.transport.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of `uvicorn.run` that bound what one request may make us hold."""
    proxies = [entry.strip() for entry in settings.trusted_proxies.split(",") if entry.strip()]
    return {
        "http": BoundedH11Protocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        # X-Forwarded-For/-Proto only from the proxies named: anyone else could claim
        # another address (escaping the sign-in limits) or https (for Secure cookies)
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
    }
