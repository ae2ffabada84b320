# ruff: noqa: ARG005 - request samples take a call number even when they do not need it
"""Every protected route refuses bad tokens (401) and too-weak roles (403).

The routes come from the OpenAPI document, so a new route is covered the day it is added.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from code_engine.api.access import ANY, ENVIRONMENT, GLOBAL, OPEN, ROUTES, ROWS
from code_engine.api.app import runtime_of
from code_engine.auth.roles import Binding, Role

OPEN_PATHS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/oauth/token",
    "/.well-known/jwks.json",
    # GitHub cannot send a bearer token: its webhook authenticates each delivery by the
    # HMAC signature of the body (X-Hub-Signature-256) and refuses all when no secret is set.
    "/api/v1/webhooks/github",
}
ROLES = ("viewer", "developer", "deployer", "admin")
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    out = []
    for path, methods in spec["paths"].items():
        for method in methods:
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            out.append((method.upper(), concrete))
    return out


def _claims(client: TestClient, **overrides: Any) -> dict[str, Any]:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    now = runtime.clock()
    claims = {
        "iss": runtime.settings.jwt_issuer,
        "aud": runtime.settings.jwt_audience,
        "sub": "mallory",
        "kind": "client",
        "roles": ["admin"],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=10)).timestamp()),
    }
    claims.update(overrides)
    return claims


def _bad_tokens(client: TestClient) -> dict[str, str | None]:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    key = runtime.tokens.keyring.active
    now = runtime.clock()
    past = int((now - timedelta(hours=1)).timestamp())
    signed = lambda claims, k=key.private: jwt.encode(  # noqa: E731
        claims, k, algorithm="EdDSA", headers={"kid": key.kid}
    )
    return {
        "missing": None,
        "garbage": "not-a-jwt",
        "expired": signed(_claims(client, exp=past, iat=past - 60)),
        "wrongly-signed": signed(_claims(client), Ed25519PrivateKey.generate()),
        "alg-none": jwt.encode(_claims(client), None, algorithm="none"),
        "wrong-audience": signed(_claims(client, aud="someone-else")),
        "wrong-issuer": signed(_claims(client, iss="https://evil.example")),
    }


def _call(client: TestClient, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, path, headers=headers, json=body).status_code


def test_open_routes_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/.well-known/jwks.json").status_code == 200


def test_every_protected_route_refuses_bad_tokens(client: TestClient) -> None:
    bad = _bad_tokens(client)
    checked = 0
    for method, path in _routes(client):
        if path in OPEN_PATHS:
            continue
        for label, token in bad.items():
            status = _call(client, method, path, token)
            assert status == 401, f"{method} {path} with {label} token gave {status}"
            checked += 1
    assert checked >= 7 * 10


def test_every_protected_route_refuses_too_weak_roles(client: TestClient, make_token) -> None:
    required: dict[str, str] = {}
    for method, path in _routes(client):
        if path in OPEN_PATHS:
            continue
        no_roles = _call(client, method, path, make_token())
        assert no_roles == 403, f"{method} {path} with no roles gave {no_roles}"
        statuses = [_call(client, method, path, make_token(role)) for role in ROLES]
        assert statuses[-1] != 403, f"{method} {path} refuses even an admin"
        first_ok = next(i for i, s in enumerate(statuses) if s != 403)
        assert all(s != 403 for s in statuses[first_ok:]), f"{method} {path}: {statuses}"
        if first_ok > 0:
            assert statuses[first_ok - 1] == 403
        required[f"{method} {path}"] = ROLES[first_ok]
    assert required["POST /api/v1/services"] == "admin"
    assert required["GET /api/v1/audit"] == "admin"
    assert required["POST /api/v1/deployments"] == "deployer"
    assert required["GET /api/v1/deployments"] == "viewer"
    assert required["POST /api/v1/releases"] == "developer"


def test_scoped_deployer_may_record_only_on_its_environment(
    client: TestClient, admin_headers: dict[str, str], make_token
) -> None:
    client.post("/api/v1/services", json={"name": "api"}, headers=admin_headers)
    staging = {"Authorization": f"Bearer {make_token('deployer:staging')}"}
    body = {"service": "api", "environment": "staging", "version": "1.0.0"}
    assert client.post("/api/v1/deployments", json=body, headers=staging).status_code == 201
    body["environment"] = "prod"
    response = client.post("/api/v1/deployments", json=body, headers=staging)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


# --- role x scope x route, against the access table of docs/api.md ---------------------

SERVICE = "checkout-api"
FIXTURES = Path(__file__).parents[2] / "fixtures" / "dora"
SCOPES = (None, "dev", "prod")
# lists whose sample names no environment: every role holder gets 200 (rows are filtered)
UNFILTERED_LISTS = {("GET", "/api/v1/incidents")}


def _world(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    """A service with a deployment and an incident in prod; every sample below is about prod."""
    assert client.post("/api/v1/services", json={"name": SERVICE}, headers=headers).is_success
    release = {"service": SERVICE, "version": "1.0.0"}
    assert client.post("/api/v1/releases", json=release, headers=headers).is_success
    ids = {}
    for env in ("dev", "prod"):
        body = {"service": SERVICE, "environment": env, "version": "1.0.0"}
        made = client.post("/api/v1/deployments", json=body, headers=headers)
        assert made.status_code == 201, made.text
        ids[f"deployment_{env}"] = made.json()["id"]
        incident = {"service": SERVICE, "title": f"{env} down", "environment": env}
        opened = client.post("/api/v1/incidents", json=incident, headers=headers)
        assert opened.status_code == 201, opened.text
        ids[f"incident_{env}"] = opened.json()["id"]
    return ids


def _samples(ids: dict[str, int]) -> dict[tuple[str, str], Callable[[int], dict[str, Any]]]:
    """For each route, a request about prod (`n` makes names unique per call)."""
    deployment, incident = ids["deployment_prod"], ids["incident_prod"]
    stamp = "2026-11-01T08:00:00Z"
    fixture = lambda name: json.loads((FIXTURES / name).read_text())  # noqa: E731
    # each sample takes a call number `n`, used where a name must be new  # noqa: ERA001
    samples: dict[tuple[str, str], Callable[[int], dict[str, Any]]] = {
        ("GET", "/api/v1/services"): lambda n: {"url": "/api/v1/services"},
        ("POST", "/api/v1/services"): lambda n: {
            "url": "/api/v1/services",
            "json": {"name": f"svc-{n}"},
        },
        ("GET", "/api/v1/services/{name}"): lambda n: {"url": f"/api/v1/services/{SERVICE}"},
        ("PATCH", "/api/v1/services/{name}"): lambda n: {
            "url": f"/api/v1/services/{SERVICE}",
            "json": {"repo": f"/srv/git/checkout-{n}"},
        },
        ("GET", "/api/v1/backups"): lambda n: {"url": "/api/v1/backups"},
        ("POST", "/api/v1/backups"): lambda n: {
            "url": "/api/v1/backups",
            "json": {"source": "no-such-source"},
        },
        ("GET", "/api/v1/dr/drills"): lambda n: {"url": "/api/v1/dr/drills"},
        ("POST", "/api/v1/dr/drills"): lambda n: {"url": "/api/v1/dr/drills"},
        ("GET", "/api/v1/dr/status"): lambda n: {"url": "/api/v1/dr/status"},
        ("POST", "/api/v1/dr/restore"): lambda n: {
            "url": "/api/v1/dr/restore",
            "json": {"date": "2020-01-01"},
        },
        ("GET", "/api/v1/environments"): lambda n: {
            "url": "/api/v1/environments",
            "params": {"service": SERVICE},
        },
        ("GET", "/api/v1/services/{name}/assessments"): lambda n: {
            "url": f"/api/v1/services/{SERVICE}/assessments"
        },
        ("POST", "/api/v1/services/{name}/assessments"): lambda n: {
            "url": f"/api/v1/services/{SERVICE}/assessments",
            "json": {"schema_version": 1},
        },
        ("GET", "/api/v1/changes"): lambda n: {"url": "/api/v1/changes"},
        ("POST", "/api/v1/changes"): lambda n: {
            "url": "/api/v1/changes",
            "json": {
                "service": SERVICE,
                "sha": f"{n:07x}abc",
                "authored_at": stamp,
                "committed_at": stamp,
            },
        },
        ("GET", "/api/v1/releases"): lambda n: {"url": "/api/v1/releases"},
        ("POST", "/api/v1/releases"): lambda n: {
            "url": "/api/v1/releases",
            "json": {"service": SERVICE, "version": f"2.0.{n}"},
        },
        ("GET", "/api/v1/pipeline/runs"): lambda n: {
            "url": "/api/v1/pipeline/runs",
            "params": {"service": SERVICE},
        },
        ("POST", "/api/v1/pipeline/runs"): lambda n: {
            "url": "/api/v1/pipeline/runs",
            "json": {
                "service": SERVICE,
                "commit": f"{n:040x}",
                "dirty": False,
                "started_at": "2026-12-01T10:00:00Z",
                "finished_at": "2026-12-01T10:01:00Z",
                "status": "passed",
            },
        },
        ("GET", "/api/v1/deployments"): lambda n: {
            "url": "/api/v1/deployments",
            "params": {"service": SERVICE, "environment": "prod"},
        },
        ("POST", "/api/v1/deployments"): lambda n: {
            "url": "/api/v1/deployments",
            "json": {"service": SERVICE, "environment": "prod", "version": "1.0.0"},
        },
        ("GET", "/api/v1/deployments/status"): lambda n: {
            "url": "/api/v1/deployments/status",
            "params": {"service": SERVICE, "environment": "prod"},
        },
        ("POST", "/api/v1/deployments/promote"): lambda n: {
            "url": "/api/v1/deployments/promote",
            "json": {"service": SERVICE, "from": "dev", "to": "prod"},
        },
        ("POST", "/api/v1/deployments/rollback"): lambda n: {
            "url": "/api/v1/deployments/rollback",
            "json": {"service": SERVICE, "environment": "prod"},
        },
        ("POST", "/api/v1/deployments/restart"): lambda n: {
            "url": "/api/v1/deployments/restart",
            "json": {"service": SERVICE, "environment": "prod"},
        },
        ("GET", "/api/v1/deployments/{deployment_id}"): lambda n: {
            "url": f"/api/v1/deployments/{deployment}"
        },
        ("GET", "/api/v1/incidents"): lambda n: {"url": "/api/v1/incidents"},
        ("POST", "/api/v1/incidents"): lambda n: {
            "url": "/api/v1/incidents",
            "json": {"service": SERVICE, "title": "slow", "environment": "prod"},
        },
        ("GET", "/api/v1/incidents/{incident_id}"): lambda n: {
            "url": f"/api/v1/incidents/{incident}"
        },
        ("POST", "/api/v1/incidents/{incident_id}/resolve"): lambda n: {
            "url": f"/api/v1/incidents/{incident}/resolve",
            "json": {},
        },
        ("POST", "/api/v1/events"): lambda n: {
            "url": "/api/v1/events",
            "json": {
                "events": [
                    {
                        "type": "incident",
                        "id": f"inc-{n}",
                        "service": SERVICE,
                        "environment": "prod",
                        "opened_at": stamp,
                        "title": "errors",
                    }
                ]
            },
        },
        ("GET", "/api/v1/audit"): lambda n: {"url": "/api/v1/audit"},
        ("POST", "/api/v1/policy/evaluate"): lambda n: {
            "url": "/api/v1/policy/evaluate",
            "json": {"service": SERVICE, "environment": "prod", "action": "deploy"},
        },
        ("GET", "/api/v1/metrics/dora"): lambda n: {
            "url": "/api/v1/metrics/dora",
            "params": {"environment": "prod"},
        },
        ("GET", "/api/v1/metrics/operations"): lambda n: {
            "url": "/api/v1/metrics/operations",
            "params": {"service": SERVICE, "environment": "prod"},
        },
        ("POST", "/api/v1/webhooks/alertmanager"): lambda n: {
            "url": "/api/v1/webhooks/alertmanager",
            "json": fixture("alertmanager_firing.json"),
        },
        ("POST", "/api/v1/webhooks/argocd"): lambda n: {
            "url": "/api/v1/webhooks/argocd",
            "json": fixture("argocd_deployed.json"),
        },
    }
    for verb in ("pause", "resume", "abort", "promote", "approve", "reject"):
        samples[("POST", f"/api/v1/deployments/{{deployment_id}}/{verb}")] = lambda n, v=verb: {
            "url": f"/api/v1/deployments/{deployment}/{v}",
            "json": {},
        }
    return samples


def _expected(method: str, path: str, role: Role, scope: str | None) -> bool:
    rule = ROUTES[(method, path)]
    assert rule.role is not None
    if role < rule.role:
        return False
    if rule.scope == GLOBAL:
        return scope is None
    if rule.scope == ANY or (method, path) in UNFILTERED_LISTS:
        return True
    assert rule.scope in (ENVIRONMENT, ROWS)
    return scope in (None, "prod")


def test_the_access_table_covers_exactly_the_routes_of_the_openapi_document(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    routes = {(m.upper(), path) for path, methods in spec["paths"].items() for m in methods}
    assert routes == set(ROUTES)
    assert {path for (_, path), rule in ROUTES.items() if rule.scope == OPEN} == OPEN_PATHS


def test_every_route_with_every_role_and_scope_matches_the_access_table(
    client: TestClient, admin_headers: dict[str, str], make_token
) -> None:
    ids = _world(client, admin_headers)
    samples = _samples(ids)
    assert set(samples) == {key for key, rule in ROUTES.items() if rule.scope != OPEN}
    tokens = {
        (role, scope): make_token(
            Binding(role, scope).render(), name=f"{role.name}-{scope or 'global'}"
        )
        for role in Role
        for scope in SCOPES
    }
    mismatches = []
    calls = 0
    for (method, path), sample in samples.items():
        for (role, scope), token in tokens.items():
            calls += 1
            request = sample(calls)
            response = client.request(
                method,
                request["url"],
                params=request.get("params"),
                json=request.get("json"),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code < 500, f"{method} {path}: {response.text}"
            assert response.status_code != 401, f"{method} {path}: {response.text}"
            allowed = response.status_code != 403
            if allowed != _expected(method, path, role, scope):
                where = Binding(role, scope).render()
                mismatches.append(f"{method} {path} as {where}: {response.status_code}")
    assert not mismatches, "\n".join(mismatches)
    assert calls == len(samples) * len(Role) * len(SCOPES)


def test_lists_show_only_rows_of_environments_the_caller_may_see(
    client: TestClient, admin_headers: dict[str, str], make_token
) -> None:
    _world(client, admin_headers)
    dev = {"Authorization": f"Bearer {make_token('viewer:dev', name='dev-viewer')}"}
    deployments = client.get("/api/v1/deployments", headers=dev).json()["items"]
    assert {d["environment"] for d in deployments} == {"dev"}
    incidents = client.get("/api/v1/incidents", headers=dev).json()["items"]
    assert [i["title"] for i in incidents] == ["dev down"]
    status = client.get("/api/v1/deployments/status", params={"service": SERVICE}, headers=dev)
    assert [row["environment"] for row in status.json()] == ["dev"]
    everyone = client.get("/api/v1/deployments", headers=admin_headers).json()["items"]
    assert {d["environment"] for d in everyone} == {"dev", "prod"}
    prod = client.get(
        "/api/v1/deployments", params={"service": SERVICE, "environment": "prod"}, headers=dev
    )
    assert prod.status_code == 403


def test_a_scoped_admin_administers_nothing_global(
    client: TestClient, admin_headers: dict[str, str], make_token
) -> None:
    dev_admin = {"Authorization": f"Bearer {make_token('admin:dev', name='dev-admin')}"}
    created = client.post("/api/v1/services", json={"name": "web"}, headers=dev_admin)
    assert created.status_code == 403
    assert "globally" in created.json()["error"]["message"]
    assert client.get("/api/v1/audit", headers=dev_admin).status_code == 403


def test_a_dev_deployer_cannot_move_prod_figures(
    client: TestClient, admin_headers: dict[str, str], make_token
) -> None:
    ids = _world(client, admin_headers)
    dev = {"Authorization": f"Bearer {make_token('deployer:dev', name='dev-deployer')}"}
    body = {"service": SERVICE, "title": "fake", "environment": "prod"}
    assert client.post("/api/v1/incidents", json=body, headers=dev).status_code == 403
    unscoped = {"service": SERVICE, "title": "fake"}  # an incident of every environment
    assert client.post("/api/v1/incidents", json=unscoped, headers=dev).status_code == 403
    linked = {**body, "environment": "dev", "deployment_id": ids["deployment_prod"]}
    assert client.post("/api/v1/incidents", json=linked, headers=dev).status_code == 403
    resolve = f"/api/v1/incidents/{ids['incident_prod']}/resolve"
    assert client.post(resolve, json={}, headers=dev).status_code == 403
    event = {
        "type": "incident",
        "id": "inc-x",
        "service": SERVICE,
        "environment": "prod",
        "opened_at": "2026-11-01T08:00:00Z",
        "title": "fake",
    }
    batch = client.post("/api/v1/events", json={"events": [event]}, headers=dev)
    assert batch.status_code == 403
    # an idempotency key of a prod record cannot be taken over from dev
    assert client.post("/api/v1/events", json={"events": [event]}, headers=admin_headers).is_success
    event["environment"] = "dev"
    assert client.post("/api/v1/events", json={"events": [event]}, headers=dev).status_code == 403
    prod_deployment = {"service": SERVICE, "environment": "prod", "version": "1.0.0"}
    prod_deployment["external_id"] = "ext-1"
    assert client.post(
        "/api/v1/deployments", json=prod_deployment, headers=admin_headers
    ).is_success
    takeover = {**prod_deployment, "environment": "dev"}
    assert client.post("/api/v1/deployments", json=takeover, headers=dev).status_code == 403
    open_prod = client.get("/api/v1/incidents", headers=admin_headers).json()["items"]
    assert sum(1 for i in open_prod if i["title"] == "fake") == 1  # only the admin's
