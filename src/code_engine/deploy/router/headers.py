"""HTTP/1.1 message heads as the proxy rewrites them: hop-by-hop out, X-Forwarded-* in."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from http import HTTPStatus

Headers = Sequence[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
FORWARDED_SET = frozenset({b"x-forwarded-proto", b"x-forwarded-host"})
KEEP_CONNECTION_TOKENS = frozenset({b"keep-alive", b"close", b""})
UPGRADE_TOKEN = frozenset({b"upgrade"})


class BodyMode(Enum):
    """How a message body is framed on the wire."""

    NONE = 0  # no body
    LENGTH = 1  # Content-Length bytes, forwarded as they are
    CHUNKED = 2  # chunked: the parser removes the framing, the proxy writes it again
    EOF = 3  # until the connection closes (responses only)


def _connection_tokens(headers: Headers) -> frozenset[bytes]:
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b","))
    return frozenset(tokens - KEEP_CONNECTION_TOKENS)


def request_head(
    method: bytes, target: bytes, headers: Headers, client_ip: bytes, scheme: bytes = b"http"
) -> tuple[bytes, BodyMode]:
    """The request head sent upstream (always HTTP/1.1, keep-alive) and its body framing."""
    parts = [method, b" ", target, b" HTTP/1.1\r\n"]
    mode = BodyMode.NONE
    forwarded_for = b""
    host = b""
    extra_hop: frozenset[bytes] = frozenset()
    for name, value in headers:
        lname = name.lower()
        if lname in HOP_BY_HOP:
            if lname == b"transfer-encoding" and value.lower().endswith(b"chunked"):
                mode = BodyMode.CHUNKED
            elif lname == b"connection":
                extra_hop = _connection_tokens(headers)
            continue
        if lname == b"x-forwarded-for":
            forwarded_for = forwarded_for + b", " + value if forwarded_for else value
            continue
        if lname in FORWARDED_SET:
            continue
        if lname == b"content-length" and mode is BodyMode.NONE:
            mode = BodyMode.LENGTH
        elif lname == b"host":
            host = value
        parts += (name, b": ", value, b"\r\n")
    if extra_hop:
        return request_head(method, target, _without(headers, extra_hop), client_ip, scheme)
    if mode is BodyMode.CHUNKED:
        parts.append(b"transfer-encoding: chunked\r\n")
    forwarded_for = forwarded_for + b", " + client_ip if forwarded_for else client_ip
    parts += (b"x-forwarded-for: ", forwarded_for, b"\r\nx-forwarded-proto: ", scheme, b"\r\n")
    if host:
        parts += (b"x-forwarded-host: ", host, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts), mode


def with_upgrade(head: bytes, headers: Headers) -> bytes:
    """A request head from `request_head` for a protocol upgrade (WebSocket, ...): the
    client's `Upgrade` header is kept and `Connection: upgrade` sent, which are hop-by-hop
    and dropped from any other request."""
    kept = [b"%s: %s\r\n" % (n, v) for n, v in headers if n.lower() == b"upgrade"]
    return b"".join((head[:-2], *kept, b"connection: upgrade\r\n\r\n"))


def _without(headers: Headers, names: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
    return [(n, v) for n, v in headers if n.lower() not in names and n.lower() != b"connection"]


def response_head(
    status: int,
    reason: bytes,
    headers: Headers,
    *,
    no_body: bool,
    client_keep_alive: bool,
    client_http10: bool,
) -> tuple[bytes, BodyMode, BodyMode, bool]:
    """The response head for the client, how the body is framed by the instance and to the
    client, and whether to close the client connection after it.

    Upstream chunked or close-delimited bodies go to HTTP/1.1 clients chunked; HTTP/1.0
    clients get them raw and the connection closes after.
    """
    parts = [b"HTTP/1.1 %d " % status, reason or _reason(status), b"\r\n"]
    upstream = BodyMode.NONE if no_body else BodyMode.EOF
    for name, value in headers:
        lname = name.lower()
        if lname in HOP_BY_HOP:
            if lname == b"transfer-encoding" and value.lower().endswith(b"chunked"):
                upstream = BodyMode.NONE if no_body else BodyMode.CHUNKED
            elif lname == b"connection" and _connection_tokens(headers):
                return response_head(
                    status,
                    reason,
                    _without(headers, _connection_tokens(headers)),
                    no_body=no_body,
                    client_keep_alive=client_keep_alive,
                    client_http10=client_http10,
                )
            continue
        if lname == b"content-length" and upstream is BodyMode.EOF:
            upstream = BodyMode.LENGTH
        parts += (name, b": ", value, b"\r\n")
    close = not client_keep_alive
    to_client = upstream
    if upstream in (BodyMode.CHUNKED, BodyMode.EOF):
        if client_http10:
            to_client, close = BodyMode.EOF, True
        else:
            to_client = BodyMode.CHUNKED
            parts.append(b"transfer-encoding: chunked\r\n")
    if close:
        parts.append(b"connection: close\r\n")
    elif client_http10:
        parts.append(b"connection: keep-alive\r\n")
    parts.append(b"\r\n")
    return b"".join(parts), upstream, to_client, close


def switching_head(reason: bytes, headers: Headers) -> bytes:
    """The `101 Switching Protocols` head for the client: the instance's headers with
    `Upgrade` kept and `Connection: upgrade`, other hop-by-hop headers dropped."""
    parts = [b"HTTP/1.1 101 ", reason or _reason(101), b"\r\n"]
    extra_hop = _connection_tokens(headers) - UPGRADE_TOKEN
    for name, value in headers:
        lname = name.lower()
        if lname == b"upgrade" or (lname not in HOP_BY_HOP and lname not in extra_hop):
            parts += (name, b": ", value, b"\r\n")
    parts.append(b"connection: upgrade\r\n\r\n")
    return b"".join(parts)


def simple_response(status: int, message: bytes, *, close: bool) -> bytes:
    """A complete plain-text response made by the proxy itself (502, 503, 504, ...)."""
    body = message + b"\n"
    connection = b"close" if close else b"keep-alive"
    return b"HTTP/1.1 %d %s\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n" % (
        status,
        _reason(status),
        len(body),
    ) + b"connection: %s\r\nx-code-router: 1\r\n\r\n%s" % (connection, body)


def chunk(data: bytes) -> list[bytes]:
    """One chunk of a chunked body, as pieces for `writelines`."""
    return [b"%x\r\n" % len(data), data, b"\r\n"]


LAST_CHUNK = b"0\r\n\r\n"


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b"Unknown"
