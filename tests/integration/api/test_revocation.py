"""Tokens stop working when their principal is disabled, deleted, loses a role, or logs out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from starlette.testclient import TestClient
from tests.conftest import FrozenClock

from code_engine.api.app import runtime_of
from code_engine.auth import principals
from code_engine.auth.roles import Binding
from code_engine.store.tables import PrincipalRow

PASSWORD = "correct horse battery"


def _status(client: TestClient, token: str) -> tuple[int, str]:
    response = client.get("/api/v1/services", headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    return response.status_code, body["error"]["message"] if "error" in body else ""


def _later(clock: FrozenClock, client: TestClient) -> None:
    """Past the principal check's cache time."""
    seconds = runtime_of(client.app).settings.principal_check_seconds  # type: ignore[arg-type]
    clock.now += timedelta(seconds=seconds + 1)


def test_disabling_stops_tokens_after_the_cache_time(
    client: TestClient, clock: FrozenClock, make_token
) -> None:
    db = runtime_of(client.app).db  # type: ignore[arg-type]
    token = make_token("viewer", name="ci")
    assert _status(client, token)[0] == 200
    principals.set_disabled(db, "ci", True)
    assert _status(client, token)[0] == 200  # cached for a few seconds at most
    _later(clock, client)
    assert _status(client, token) == (401, "'ci' is disabled")
    principals.set_disabled(db, "ci", False)
    _later(clock, client)
    assert _status(client, token)[0] == 200


def test_losing_a_role_stops_tokens_carrying_it(
    client: TestClient, clock: FrozenClock, make_token
) -> None:
    db = runtime_of(client.app).db  # type: ignore[arg-type]
    token = make_token("viewer", "deployer:dev", name="ci")
    principals.revoke(db, "ci", Binding.parse("deployer:dev"))
    _later(clock, client)
    status, message = _status(client, token)
    assert status == 401
    assert message == (
        "the token carries roles its principal no longer holds (deployer:dev); log in again"
    )
    assert _status(client, make_token("viewer", name="ci"))[0] == 200


def test_a_deleted_principal_or_another_kind_is_no_one(
    client: TestClient, clock: FrozenClock, make_token
) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    token = make_token("viewer", name="ci")
    with runtime.db.session() as session:
        session.execute(delete(PrincipalRow).where(PrincipalRow.name == "ci"))
    _later(clock, client)
    assert _status(client, token) == (401, "the token's principal no longer exists")
    # a user named like a former client does not inherit its tokens
    principals.create_user(runtime.db, clock, "ci", PASSWORD, frozenset({Binding.parse("viewer")}))
    _later(clock, client)
    assert _status(client, token)[0] == 401


def test_logout_revokes_the_session_token_at_once(client: TestClient) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    bindings = frozenset({Binding.parse("viewer")})
    principals.create_user(runtime.db, runtime.clock, "mara", PASSWORD, bindings)
    form = {"username": "mara", "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    token = client.cookies["code_session"]
    assert _status(client, token)[0] == 200
    assert client.get("/", follow_redirects=False).status_code == 200
    client.post("/logout", follow_redirects=False)
    assert _status(client, token) == (401, "token revoked (logged out); log in again")
    client.cookies.set("code_session", token)  # a copy of the cookie
    assert client.get("/", follow_redirects=False).status_code == 303
    events = client.get(
        "/api/v1/audit",
        params={"action": "auth.logout"},
        headers={"Authorization": f"Bearer {_admin(client)}"},
    )
    assert [e["principal"] for e in events.json()["items"]] == ["mara"]


def test_a_scoped_viewer_sees_only_its_environment_on_the_dashboard(client: TestClient) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    bindings = frozenset({Binding.parse("viewer:dev")})
    principals.create_user(runtime.db, runtime.clock, "dev", PASSWORD, bindings)
    form = {"username": "dev", "password": PASSWORD, "next": "/"}
    client.post("/login", data=form, follow_redirects=False)
    assert client.get("/?env=dev", follow_redirects=False).status_code == 200
    landing = client.get("/", follow_redirects=False)  # lands on an environment it may view
    assert landing.status_code == 200 and "<strong>dev</strong>" in landing.text
    refused = client.get("/?env=prod", follow_redirects=False)
    assert refused.status_code == 403 and "may not view environment 'prod'" in refused.text
    assert refused.headers["content-type"].startswith("text/plain")


def _admin(client: TestClient) -> str:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    bindings = frozenset({Binding.parse("admin")})
    principals.ensure_principal(runtime.db, "auditor", bindings)
    return runtime.tokens.issue("auditor", "client", bindings, 60).access_token
