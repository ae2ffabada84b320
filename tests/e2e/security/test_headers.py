"""Security headers, cookies, CORS and proxies, as a real server sends them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from code_engine.auth import principals
from code_engine.auth.roles import Binding
from code_engine.clock import utc_now
from code_engine.store.engine import make_database

from .server import Server, running_server

PASSWORD = "correct horse battery staple"  # noqa: S105  # pragma: allowlist secret


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server behind a trusted proxy (this host), with one browser origin allowed."""
    root = tmp_path_factory.mktemp("proxied")
    settings = {
        "CODE_TRUSTED_PROXIES": "127.0.0.1",
        "CODE_CORS_ORIGINS": "https://ops.example",
        # the sixth failure locks out (for 15 minutes): no test here races a short backoff
        "CODE_AUTH_LOCKOUT_FAILURES": "6",
    }
    with running_server(root, settings) as server:
        db = make_database(f"sqlite:///{root / 'data' / 'code.db'}")
        principals.create_user(db, utc_now, "mara", PASSWORD, frozenset({Binding.parse("viewer")}))
        db.dispose()
        yield server


def test_api_responses_carry_the_security_headers(server: Server) -> None:
    for path in ("/healthz", "/api/v1/services", "/api/v1/nothing-here"):
        answer = httpx.get(f"{server.url}{path}", headers=server.headers)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "Strict-Transport-Security" not in answer.headers  # plain HTTP, no proxy


def test_the_dashboard_runs_no_inline_script_and_styles_by_nonce(server: Server) -> None:
    page = httpx.get(f"{server.url}/login")
    policy = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "script-src" not in policy  # default-src 'none': no script at all
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in page.text
    assert "<script" not in page.text
    assert " style=" not in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    again = httpx.get(f"{server.url}/login").headers["Content-Security-Policy"]
    assert again != policy  # a nonce per response


def test_cors_is_off_unless_configured(server: Server, proxied: Server) -> None:
    preflight = {
        "Origin": "https://ops.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    closed = httpx.options(f"{server.url}/api/v1/services", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    opened = httpx.options(f"{proxied.url}/api/v1/services", headers=preflight)
    assert opened.headers["access-control-allow-origin"] == "https://ops.example"
    other = httpx.options(
        f"{proxied.url}/api/v1/services", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_behind_a_trusted_tls_proxy_cookies_are_secure_and_hsts_is_sent(proxied: Server) -> None:
    form = {"username": "mara", "password": PASSWORD, "next": "/"}
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    answer = httpx.post(f"{proxied.url}/login", data=form, headers=tls)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"].lower()
    for flag in ("secure", "httponly", "samesite=strict", "path=/"):
        assert flag in cookie
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    # the same login over plain HTTP: no Secure flag (the browser would drop the cookie)
    plain = httpx.post(f"{proxied.url}/login", data=form)
    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "httponly" in plain.headers["set-cookie"].lower()


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(server: Server) -> None:
    spoofed = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    answer = httpx.get(f"{server.url}/healthz", headers=spoofed)
    assert "Strict-Transport-Security" not in answer.headers


def test_sign_in_limits_count_the_forwarded_address_of_a_trusted_proxy(proxied: Server) -> None:
    form = {"grant_type": "password", "username": "mara", "password": "wrong"}
    statuses = []
    for _ in range(7):
        headers = {"X-Forwarded-For": "198.51.100.4"}
        statuses.append(
            httpx.post(f"{proxied.url}/oauth/token", data=form, headers=headers).status_code
        )
    assert statuses == [400] * 6 + [429]
    # another client behind the same proxy, with another name, is not held back by the
    # first one's address; the first one's name is held back from any address
    other = {"grant_type": "password", "username": "someone", "password": "wrong"}
    headers = {"X-Forwarded-For": "198.51.100.5"}
    assert httpx.post(f"{proxied.url}/oauth/token", data=other, headers=headers).status_code == 400
    ok = {"grant_type": "password", "username": "mara", "password": PASSWORD}
    assert httpx.post(f"{proxied.url}/oauth/token", data=ok, headers=headers).status_code == 429
