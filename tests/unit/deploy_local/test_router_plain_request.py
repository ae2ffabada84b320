"""The parser-free path of the builtin router: only plain requests take it."""

from __future__ import annotations

import pytest

from code_engine.deploy.router.headers import request_head
from code_engine.deploy.router.plainrequest import plain_request

PLAIN = b"GET /items?page=2 HTTP/1.1\r\nHost: shop.example\r\nAccept: */*\r\n\r\n"


def test_a_plain_get_gets_the_forwarded_headers_appended() -> None:
    head = plain_request(PLAIN, b"10.0.0.7")
    assert head == (
        b"GET /items?page=2 HTTP/1.1\r\nHost: shop.example\r\nAccept: */*\r\n"
        b"x-forwarded-for: 10.0.0.7\r\nx-forwarded-proto: http\r\n"
        b"x-forwarded-host: shop.example\r\n\r\n"
    )


def test_it_says_what_the_parser_path_says() -> None:
    head = plain_request(PLAIN, b"10.0.0.7")
    parsed, _ = request_head(
        b"GET", b"/items?page=2", [(b"Host", b"shop.example"), (b"Accept", b"*/*")], b"10.0.0.7"
    )
    assert head == parsed


def test_head_requests_qualify() -> None:
    assert plain_request(b"HEAD / HTTP/1.1\r\nhost: a\r\n\r\n", b"1.2.3.4") is not None


@pytest.mark.parametrize(
    "data",
    [
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",  # a body
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",  # framing header
        b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",  # hop-by-hop
        b"GET / HTTP/1.1\r\nHost: a\r\nconnection: keep-alive\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nKeep-Alive: 5\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nProxy-Authorization: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n",  # appended to
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n",  # replaced
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  # two hosts
        b"GET / HTTP/1.1\r\nX-A: 1\r\n\r\n",  # no host
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n",  # obsolete folding
        b"GET / HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n",  # bare line feed
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 2\r\n\r\n",  # space before colon
        b"GET / HTTP/1.0\r\nHost: a\r\n\r\n",  # HTTP/1.0: not keep-alive by default
        b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",  # a space in the target
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",  # pipelined
        b"GET / HTTP/1.1\r\nHost: a\r\n",  # not whole yet
        b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n",  # only GET and HEAD
    ],
)
def test_anything_else_goes_through_the_parser(data: bytes) -> None:
    assert plain_request(data, b"1.2.3.4") is None
