"""Every protected route refuses bad tokens (401) and too-weak roles (403).

The routes come from the OpenAPI document, so a new route is covered the day it is added.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from code_engine.api.app import runtime_of

OPEN = {
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
        if path in OPEN:
            continue
        for label, token in bad.items():
            status = _call(client, method, path, token)
            assert status == 401, f"{method} {path} with {label} token gave {status}"
            checked += 1
    assert checked >= 7 * 10


def test_every_protected_route_refuses_too_weak_roles(client: TestClient, make_token) -> None:
    required: dict[str, str] = {}
    for method, path in _routes(client):
        if path in OPEN:
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
