from __future__ import annotations

from code_engine.deploy.router.headers import (
    BodyMode,
    chunk,
    request_head,
    response_head,
    simple_response,
)


def _lines(head: bytes) -> list[bytes]:
    return head.split(b"\r\n")


def test_request_head_drops_hop_by_hop_and_adds_forwarded_headers() -> None:
    head, mode = request_head(
        b"GET",
        b"/x?y=1",
        [
            (b"Host", b"example.test"),
            (b"Connection", b"keep-alive, X-Secret"),
            (b"X-Secret", b"hop"),
            (b"Keep-Alive", b"timeout=5"),
            (b"X-Forwarded-For", b"1.2.3.4"),
            (b"X-Forwarded-Proto", b"https"),
            (b"Accept", b"*/*"),
        ],
        b"10.0.0.9",
    )
    lines = _lines(head)
    assert lines[0] == b"GET /x?y=1 HTTP/1.1"
    assert b"Host: example.test" in lines
    assert b"Accept: */*" in lines
    assert b"x-forwarded-for: 1.2.3.4, 10.0.0.9" in lines
    assert b"x-forwarded-proto: http" in lines
    assert b"x-forwarded-host: example.test" in lines
    assert not any(
        line.lower().startswith((b"connection", b"keep-alive", b"x-secret")) for line in lines
    )
    assert head.endswith(b"\r\n\r\n")
    assert mode is BodyMode.NONE


def test_request_body_framing() -> None:
    _, mode = request_head(b"POST", b"/", [(b"Content-Length", b"3")], b"ip")
    assert mode is BodyMode.LENGTH
    head, mode = request_head(b"POST", b"/", [(b"Transfer-Encoding", b"chunked")], b"ip")
    assert mode is BodyMode.CHUNKED
    assert b"transfer-encoding: chunked" in _lines(head)


def test_response_with_length_is_forwarded_as_is_and_keeps_alive() -> None:
    head, _, mode, close = response_head(
        200,
        b"OK",
        [(b"Content-Length", b"2"), (b"Connection", b"keep-alive")],
        no_body=False,
        client_keep_alive=True,
        client_http10=False,
    )
    assert _lines(head)[0] == b"HTTP/1.1 200 OK"
    assert b"Content-Length: 2" in _lines(head)
    assert mode is BodyMode.LENGTH
    assert close is False
    assert b"connection" not in head.lower()


def test_chunked_response_is_rechunked_for_http11_and_raw_then_closed_for_http10() -> None:
    headers = [(b"Transfer-Encoding", b"chunked")]
    head, _, mode, close = response_head(
        200, b"", headers, no_body=False, client_keep_alive=True, client_http10=False
    )
    assert mode is BodyMode.CHUNKED and not close
    assert b"transfer-encoding: chunked" in _lines(head)
    assert _lines(head)[0] == b"HTTP/1.1 200 OK"
    head, _, mode, close = response_head(
        200, b"OK", headers, no_body=False, client_keep_alive=True, client_http10=True
    )
    assert mode is BodyMode.EOF and close
    assert b"connection: close" in _lines(head)


def test_close_delimited_response_becomes_chunked_for_http11_clients() -> None:
    _, _, mode, close = response_head(
        200, b"OK", [], no_body=False, client_keep_alive=True, client_http10=False
    )
    assert mode is BodyMode.CHUNKED and not close


def test_head_and_304_responses_have_no_body() -> None:
    head, _, mode, _ = response_head(
        200,
        b"OK",
        [(b"Content-Length", b"10")],
        no_body=True,
        client_keep_alive=True,
        client_http10=False,
    )
    assert mode is BodyMode.NONE
    assert b"Content-Length: 10" in _lines(head)


def test_http10_keep_alive_client_is_told_so() -> None:
    head, _, _, close = response_head(
        200,
        b"OK",
        [(b"Content-Length", b"0")],
        no_body=False,
        client_keep_alive=True,
        client_http10=True,
    )
    assert not close
    assert b"connection: keep-alive" in _lines(head)


def test_simple_response_and_chunk() -> None:
    response = simple_response(502, b"bad gateway", close=True)
    assert response.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert b"content-length: 12\r\n" in response
    assert response.endswith(b"\r\n\r\nbad gateway\n")
    assert b"".join(chunk(b"hello")) == b"5\r\nhello\r\n"
