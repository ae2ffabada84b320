"""The OAuth2 token endpoint (both grants) and the JWKS document, over the HTTP interface."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from code_engine.api import create_app
from code_engine.api.app import runtime_of
from code_engine.auth import principals
from code_engine.auth.roles import Binding

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _token(client: TestClient, **form: str) -> tuple[int, dict[str, object]]:
    response = client.post("/oauth/token", data=form)
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()


def test_password_grant_for_users(client: TestClient, database, clock) -> None:
    roles = frozenset({Binding.parse("deployer:staging")})
    principals.create_user(database, clock, "alice", "correct horse battery", roles)
    status, body = _token(
        client, grant_type="password", username="alice", password="correct horse battery"
    )
    assert status == 200 and body["token_type"] == "Bearer"
    assert body["expires_in"] == 8 * 3600
    me = runtime_of(client.app).tokens.verify(str(body["access_token"]))  # type: ignore[arg-type]
    assert (me.name, me.kind, me.bindings) == ("alice", "user", roles)
    status, body = _token(client, grant_type="password", username="alice", password="nope")
    assert (status, body["error"]) == (400, "invalid_grant")
    principals.set_disabled(database, "alice", True)
    status, _ = _token(
        client, grant_type="password", username="alice", password="correct horse battery"
    )
    assert status == 400


def test_client_credentials_in_the_body_or_basic_auth(client: TestClient, database, clock) -> None:
    creds = principals.create_client(database, clock, "ci", frozenset({Binding.parse("viewer")}))
    status, body = _token(
        client, grant_type="client_credentials", client_id="ci", client_secret=creds.client_secret
    )
    assert status == 200 and body["expires_in"] == 900
    basic = base64.b64encode(f"ci:{creds.client_secret}".encode()).decode()
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    services = client.get(
        "/api/v1/services", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert services.status_code == 200
    status, body = _token(
        client,
        grant_type="client_credentials",
        client_id="ci",
        client_secret="wrong",  # pragma: allowlist secret
    )
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = _token(client, grant_type="authorization_code", code="x")
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_tokens_verify_against_the_published_jwks(client: TestClient, make_token) -> None:
    token = make_token("viewer")
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(
        token, key.key, algorithms=["EdDSA"], audience="code-engine", options={"verify_exp": False}
    )
    assert claims["roles"] == ["viewer"]


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="idp", alg="RS256", use="sig")
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", key
    server.shutdown()


def test_external_oidc_issuer_over_http(
    settings, database, clock, jwks_server, tmp_path: Path
) -> None:
    url, key = jwks_server
    external = settings.model_copy(
        update={
            "oidc_issuer": "https://idp.example",
            "oidc_jwks": url,
            "oidc_roles_claim": "groups",
        }
    )
    app = create_app(external, clock=clock, database=database, migrate=False)
    now = int(clock().timestamp())
    token = jwt.encode(
        {
            "iss": "https://idp.example",
            "aud": "code-engine",
            "sub": "bob",
            "iat": now,
            "exp": now + 300,
            "groups": ["admin"],
        },
        key,
        algorithm="RS256",
        headers={"kid": "idp"},
    )
    with TestClient(app) as client:
        response = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
