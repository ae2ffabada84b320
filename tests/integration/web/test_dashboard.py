"""The dashboard over the app: login form, strict cookie, the four keys per service."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from code_engine.api.app import runtime_of
from code_engine.auth import principals
from code_engine.auth.roles import Binding
from code_engine.cli.dora_demo import seed_service
from code_engine.web.views import format_value

PASSWORD = "correct horse battery"


def _user(client: TestClient, *roles: str) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    bindings = frozenset(Binding.parse(r) for r in roles)
    principals.create_user(runtime.db, runtime.clock, "mara", PASSWORD, bindings)


def _login(client: TestClient, password: str = PASSWORD, next_: str = "/") -> object:
    form = {"username": "mara", "password": password, "next": next_}
    return client.post("/login", data=form, follow_redirects=False)


def test_pages_need_a_login(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/"
    form = client.get("/login")
    assert form.status_code == 200 and 'name="password"' in form.text
    assert "default-src 'none'" in form.headers["content-security-policy"]


def test_login_sets_a_strict_http_only_cookie(client: TestClient) -> None:
    _user(client, "viewer")
    refused = _login(client, "wrong password!")
    assert refused.status_code == 401 and "Wrong username or password" in refused.text
    response = _login(client, next_="https://evil.example/")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("code_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    # the API keeps bearer tokens: the cookie alone does not open it
    assert client.get("/api/v1/services").status_code == 401
    logout = client.post("/logout", follow_redirects=False)
    assert 'code_session=""' in logout.headers["set-cookie"]


def test_dashboard_shows_the_four_keys_deployments_and_incidents(client: TestClient) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    seed_service(runtime.db, runtime.clock(), service="demo-shop", days=30)
    _user(client, "viewer")
    _login(client)
    page = client.get("/?window=30d")
    assert page.status_code == 200, page.text
    assert 'data-service="demo-shop"' in page.text
    for title in (
        "Deployment frequency",
        "Lead time for changes",
        "Change failure rate",
        "Time to restore",
    ):
        assert title in page.text
    assert len(re.findall(r'<article class="key (elite|high|medium|low)"', page.text)) == 4
    assert page.text.count("<polyline") >= 4
    assert "canary 25 % · step 4 of 6 · stepping" in page.text
    assert "Checkout latency above SLO" in page.text and "open ·" in page.text
    api = client.get(
        "/api/v1/metrics/dora",
        params={"service": "demo-shop", "window": "30d"},
        headers={"Authorization": f"Bearer {_token(client)}"},
    ).json()
    frequency = api["services"][0]["metrics"]["deployment_frequency"]["value"]
    assert f">{format_value(frequency)}<" in page.text
    # the bands are named with the report and its year, as the API and the CLI name them
    bands = api["bands"]
    assert f'data-year="{bands["year"]}"' in page.text
    assert f"{bands['report']} {bands['year']}" in page.text


def _token(client: TestClient, role: str = "viewer") -> str:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    bindings = frozenset({Binding.parse(role)})
    principals.ensure_principal(runtime.db, "t", bindings)
    return runtime.tokens.issue("t", "client", bindings, 60).access_token


def test_a_principal_without_roles_is_sent_back_to_login(client: TestClient) -> None:
    _user(client)
    _login(client)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_dashboard_shows_the_last_pipeline_runs(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {_developer_token(client)}"}
    admin = {"Authorization": f"Bearer {_token(client, 'admin')}"}
    assert client.post("/api/v1/services", json={"name": "demo-shop"}, headers=admin).is_success
    for index, status in enumerate(("failed", "passed")):
        run = {
            "service": "demo-shop",
            "commit": f"{index + 10:x}" * 40,
            "dirty": False,
            "started_at": "2026-12-01T10:00:00Z",
            "finished_at": "2026-12-01T10:01:30Z",
            "status": status,
            "steps": [
                {
                    "name": "ruff",
                    "stage": "lint",
                    "status": "passed",
                    "cached": True,
                    "duration_s": 0.1,
                },
                {"name": "pytest", "stage": "test", "status": status, "duration_s": 80.0},
            ],
            "gates": [
                {
                    "name": "coverage",
                    "threshold": "> 80",
                    "measured": "91" if status == "passed" else "62",
                    "verdict": status,
                }
            ],
        }
        assert client.post("/api/v1/pipeline/runs", json=run, headers=headers).status_code == 201
    _user(client, "viewer")
    _login(client)
    page = client.get("/?window=7d").text
    assert "Pipeline runs" in page
    assert page.index('data-status="passed"') < page.index('data-status="failed"')  # newest first
    assert "<code>" + "b" * 12 + "</code>" in page and "<code>" + "a" * 12 + "</code>" in page
    assert "gate coverage, step pytest" in page
    assert "2 (1 cached)" in page and "90.0 s" in page


def _developer_token(client: TestClient) -> str:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    bindings = frozenset({Binding.parse("developer")})
    principals.ensure_principal(runtime.db, "ci", bindings)
    return runtime.tokens.issue("ci", "client", bindings, 60).access_token
