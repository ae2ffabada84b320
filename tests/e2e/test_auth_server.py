"""Tokens against real `codectl server` processes: revocation, numeric dates, cursors, and
key rotation seen by two replicas on one database."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from tests.support.waiting import scaled

CODECTL = [sys.executable, "-m", "code_engine"]
ADMIN_ID = "root"
ADMIN_SECRET = "root-secret-long-enough"  # noqa: S105 - a test server's bootstrap secret


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, url: str, env: dict[str, str], proc: subprocess.Popen[bytes], log: Path):
        self.url, self.env, self.proc, self.log = url, env, proc, log

    def token(self, client_id: str = ADMIN_ID, secret: str = ADMIN_SECRET) -> str:
        form = {"grant_type": "client_credentials", "client_id": client_id}
        response = httpx.post(f"{self.url}/oauth/token", data={**form, "client_secret": secret})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def get(self, path: str, token: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{self.url}{path}", params=params, headers=headers, timeout=10)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*CODECTL, *args], env=self.env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        return result


def _env(tmp_path: Path, database_url: str, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_")}
    env.update(
        CODE_DATA_DIR=str(tmp_path / f"data-{name}"),
        CODE_DATABASE_URL=database_url,
        CODE_JWT_KEYS_DIR=str(tmp_path / "keys"),  # replicas share the key ring
        CODE_BOOTSTRAP_CLIENT_ID=ADMIN_ID,
        CODE_BOOTSTRAP_CLIENT_SECRET=ADMIN_SECRET,
        CODE_PRINCIPAL_CHECK_SECONDS="1",
        CODE_DORA_METRICS_REFRESH_SECONDS="0",
        XDG_CONFIG_HOME=str(tmp_path / f"config-{name}"),
        NO_COLOR="1",
    )
    return env


def _start(tmp_path: Path, database_url: str, name: str) -> Server:
    port = _free_port()
    env = _env(tmp_path, database_url, name)
    log = tmp_path / f"server-{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*CODECTL, "server", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    _until(lambda: _ready(url), f"server {name} ready:\n{log}", timeout=60)
    return Server(url, env, proc, log)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _until(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for: {what}")


@pytest.fixture
def servers(tmp_path: Path, database_url: str) -> Iterator[Callable[[str], Server]]:
    started: list[Server] = []

    def start(name: str) -> Server:
        server = _start(tmp_path, database_url, name)
        started.append(server)
        return server

    yield start
    for server in started:
        server.proc.terminate()
        server.proc.wait(timeout=20)


def _message(response: httpx.Response) -> str:
    return str(response.json()["error"]["message"])


def test_disable_revoke_and_logout_stop_tokens_at_once(servers) -> None:
    server = servers("a")
    made = server.cli("clients", "create", "ci", "--role", "deployer:dev", "-o", "json")
    secret = json.loads(made.stdout)["client_secret"]
    token = server.token("ci", secret)
    assert server.get("/api/v1/services", token).status_code == 200

    server.cli("clients", "disable", "ci")
    _until(lambda: server.get("/api/v1/services", token).status_code == 401, "disable")
    assert "'ci' is disabled" in _message(server.get("/api/v1/services", token))

    server.cli("clients", "disable", "ci", "--enable")
    token = server.token("ci", secret)
    assert server.get("/api/v1/services", token).status_code == 200
    server.cli("users", "grant", "ci", "viewer")
    server.cli("users", "revoke", "ci", "deployer:dev")
    _until(lambda: server.get("/api/v1/services", token).status_code == 401, "revoke")
    refused = _message(server.get("/api/v1/services", token))
    assert "no longer holds" in refused and "deployer:dev" in refused
    assert "Traceback" not in refused and "Error" not in refused
    # a new token carries the roles held now
    assert server.get("/api/v1/services", server.token("ci", secret)).status_code == 200

    env = {**server.env, "CODE_NEW_USER_PASSWORD": "a long enough password"}
    subprocess.run([*CODECTL, "users", "create", "mara", "--role", "viewer"], env=env, check=True)
    with httpx.Client(base_url=server.url) as browser:
        form = {"username": "mara", "password": "a long enough password", "next": "/"}
        assert browser.post("/login", data=form).status_code in (200, 303)
        cookie = browser.cookies["code_session"]
        assert server.get("/api/v1/services", cookie).status_code == 200
        browser.post("/logout")
    after = server.get("/api/v1/services", cookie)
    assert after.status_code == 401 and "revoked" in _message(after)


def _sign(server: Server, claims_json: str) -> str:
    """A token signed with the server's own active key, its claims written by hand."""
    keys = Path(server.env["CODE_JWT_KEYS_DIR"])
    kid = json.loads((keys / "ring.json").read_text())["keys"][-1]["kid"]
    private = serialization.load_pem_private_key((keys / f"{kid}.pem").read_bytes(), None)
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid}

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(claims_json.encode())}"
    signature = private.sign(signing_input.encode())  # type: ignore[union-attr,call-arg]
    return f"{signing_input}.{part(signature)}"


def _object(members: dict[str, str]) -> str:
    """A JSON object from members already written as JSON text (NaN and Infinity included)."""
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in members.items()) + "}"


NOT_DATES = [
    ("exp", '"4102444800"'),
    ("exp", "NaN"),
    ("exp", "Infinity"),
    ("exp", "1e300"),
    ("exp", "true"),
    ("nbf", '"0"'),
    ("nbf", "-Infinity"),
    ("iat", "[1]"),
    ("iat", "-1"),
]


# how a token is read, whatever the database: once, on SQLite
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_time_claims_must_be_numeric_dates(servers) -> None:
    server = servers("a")
    now = int(time.time())
    claims = {
        "iss": '"code-engine"',
        "aud": '"code-engine"',
        "sub": json.dumps(ADMIN_ID),
        "kind": '"client"',
        "roles": '["admin"]',
        "iat": str(now),
        "nbf": str(now),
        "exp": str(now + 600),
        "jti": '"t1"',
    }
    assert server.get("/api/v1/services", _sign(server, _object(claims))).status_code == 200
    for claim, value in NOT_DATES:
        response = server.get("/api/v1/services", _sign(server, _object({**claims, claim: value})))
        assert response.status_code == 401, (claim, value)
        assert _message(response) == (
            f"invalid token: claim {claim!r} must be a number of seconds since 1970 (a NumericDate)"
        )
    expired = {**claims, "exp": str(now - 60)}
    assert _message(server.get("/api/v1/services", _sign(server, _object(expired)))) == (
        "invalid token: expired"
    )
    assert server.proc.poll() is None


def test_a_cursor_of_one_list_is_refused_by_another(servers) -> None:
    server = servers("a")
    token = server.token()
    for _ in range(3):
        server.token()  # each token request is an audit event
    first = server.get("/api/v1/audit", token, limit=1).json()
    cursor = first["next_cursor"]
    assert cursor
    again = server.get("/api/v1/audit", token, limit=1, cursor=cursor)
    assert again.status_code == 200 and again.json()["items"][0]["id"] < first["items"][0]["id"]
    for path, params in (
        ("/api/v1/incidents", {}),
        ("/api/v1/deployments", {}),
        ("/api/v1/audit", {"action": "auth.token"}),
    ):
        foreign = server.get(path, token, limit=1, cursor=cursor, **params)
        assert foreign.status_code == 422, (path, foreign.text)
        assert "another list" in _message(foreign)
    forged = base64.urlsafe_b64encode(b"id:1").decode()
    assert server.get("/api/v1/audit", token, cursor=forged).status_code == 422


# replicas share a key ring (files) and a database, as in production: PostgreSQL (the key
# ring is the subject; the token paths on SQLite are the other tests' subject)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_rotation_reaches_both_replicas_without_restart(servers) -> None:
    a, b = servers("a"), servers("b")
    old = a.token()
    old_kid = jwt.get_unverified_header(old)["kid"]
    assert b.get("/api/v1/services", old).status_code == 200
    # published for a few seconds only: long enough for the three requests below to see the
    # old key still signing, short enough that the test does not wait for nothing
    a.cli("auth", "rotate-keys", "--publish-for", str(round(scaled(5))))
    new_kid = json.loads((Path(a.env["CODE_JWT_KEYS_DIR"]) / "ring.json").read_text())["keys"][-1][
        "kid"
    ]
    assert new_kid != old_kid

    def published(server: Server) -> set[str]:
        return {k["kid"] for k in httpx.get(f"{server.url}/.well-known/jwks.json").json()["keys"]}

    # published by both before either signs with it
    assert published(a) == published(b) == {old_kid, new_kid}
    early = a.token()
    assert jwt.get_unverified_header(early)["kid"] == old_kid
    _until(
        lambda: jwt.get_unverified_header(b.token())["kid"] == new_kid, "new key signs", timeout=40
    )
    fresh = a.token()
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid
    for server in (a, b):
        for token in (old, early, fresh):
            assert server.get("/api/v1/services", token).status_code == 200
    assert a.proc.poll() is None and b.proc.poll() is None


# the CLI's stored login, whatever the database: once, on SQLite
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_codectl_renews_a_machine_login(servers) -> None:
    server = servers("a")
    server.cli(
        "login", "--server", server.url, "--client-id", ADMIN_ID, "--client-secret", ADMIN_SECRET
    )
    stored = Path(server.env["XDG_CONFIG_HOME"]) / "code-engine" / "credentials.json"
    login = json.loads(stored.read_text())
    assert login["client_id"] == ADMIN_ID and oct(stored.stat().st_mode & 0o777) == "0o600"

    # expired: renewed before the request
    stored.write_text(json.dumps({**login, "expires_at": time.time() - 1}))
    listed = server.cli("services", "list", "--output", "json")
    assert json.loads(listed.stdout) == []
    renewed = json.loads(stored.read_text())
    assert renewed["token"] != login["token"] and renewed["expires_at"] > time.time() + 60

    # refused (revoked, or roles changed): renewed once, the request retried
    stored.write_text(json.dumps({**renewed, "token": login["token"][:-4] + "AAAA"}))
    assert server.cli("services", "list", "--output", "json").returncode == 0
    assert json.loads(stored.read_text())["token"] != renewed["token"]

    # a person's login keeps no password and asks to log in again
    env = {**server.env, "CODE_NEW_USER_PASSWORD": "a long enough password"}
    subprocess.run([*CODECTL, "users", "create", "mara", "--role", "viewer"], env=env, check=True)
    server.cli(
        "login", "--server", server.url, "-u", "mara", "--password", "a long enough password"
    )
    person = json.loads(stored.read_text())
    assert person["client_secret"] == "" and "a long enough password" not in stored.read_text()
    stored.write_text(json.dumps({**person, "expires_at": time.time() - 1}))
    expired = subprocess.run(
        [*CODECTL, "services", "list"], env=server.env, capture_output=True, text=True, check=False
    )
    assert expired.returncode == 2 and "run codectl login again" in expired.stderr
