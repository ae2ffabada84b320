from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from code_engine.auth.keys import KeyRing
from code_engine.auth.roles import Binding, Role
from code_engine.auth.tokens import AuthenticationError, ExternalIssuer, TokenService
from code_engine.errors import ConfigError


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def _service(
    tmp_path: Path, clock: Clock, passphrase: str = "", external: ExternalIssuer | None = None
) -> TokenService:
    ring = KeyRing(tmp_path / "keys", passphrase, clock, timedelta(hours=1)).load_or_create()
    return TokenService(ring, clock, issuer="code", audience="code", external=external)


def test_issue_and_verify_round_trip(tmp_path: Path) -> None:
    clock = Clock()
    tokens = _service(tmp_path, clock)
    issued = tokens.issue("ci", "client", frozenset({Binding(Role.deployer, "staging")}), 300)
    principal = tokens.verify(issued.access_token)
    assert principal.name == "ci"
    assert principal.bindings == frozenset({Binding(Role.deployer, "staging")})
    clock.now += timedelta(seconds=306)
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(issued.access_token)


def test_rotation_keeps_old_tokens_valid_until_grace_ends(tmp_path: Path) -> None:
    clock = Clock()
    tokens = _service(tmp_path, clock, passphrase="a long passphrase")
    old = tokens.issue("u", "user", frozenset(), 3600).access_token
    old_kid = tokens.keyring.active.kid
    clock.now += timedelta(minutes=1)
    tokens.keyring.rotate()
    assert tokens.keyring.active.kid != old_kid
    assert tokens.verify(old).name == "u"
    assert {k["kid"] for k in tokens.keyring.jwks()["keys"]} == {old_kid, tokens.keyring.active.kid}
    # a reloaded ring (another replica, or after restart) sees the same keys
    reloaded = KeyRing(tmp_path / "keys", "a long passphrase", clock, timedelta(hours=1))
    assert reloaded.load_or_create().active.kid == tokens.keyring.active.kid
    clock.now += timedelta(hours=1, minutes=1)
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(old)  # the token has expired, and its key is past its grace period
    tokens.keyring.rotate()
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 2


def test_encrypted_key_needs_the_passphrase(tmp_path: Path) -> None:
    clock = Clock()
    _service(tmp_path, clock, passphrase="right passphrase")
    with pytest.raises(ConfigError, match="unreadable signing key ring"):
        KeyRing(tmp_path / "keys", "wrong", clock, timedelta(hours=1)).load_or_create()


def test_external_oidc_issuer_from_jwks_file(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="idp-1", alg="RS256", use="sig")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [jwk]}))
    clock = Clock()
    issuer = ExternalIssuer("https://idp.example", "code", str(jwks_file), "groups")
    tokens = _service(tmp_path, clock, external=issuer)
    claims = {
        "iss": "https://idp.example",
        "aud": "code",
        "sub": "alice",
        "groups": ["deployer:prod", "some-other-app-role"],
        "iat": int(clock.now.timestamp()),
        "exp": int(clock.now.timestamp()) + 60,
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "idp-1"})
    principal = tokens.verify(token)
    assert principal.name == "alice"
    assert principal.bindings == frozenset({Binding(Role.deployer, "prod")})
    other = jwt.encode({**claims, "aud": "x"}, key, algorithm="RS256", headers={"kid": "idp-1"})
    with pytest.raises(AuthenticationError):
        tokens.verify(other)
    unknown = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "nope"})
    with pytest.raises(AuthenticationError, match="does not publish"):
        tokens.verify(unknown)


def test_untrusted_issuer_and_malformed_tokens(tmp_path: Path) -> None:
    tokens = _service(tmp_path, Clock())
    with pytest.raises(AuthenticationError, match="malformed"):
        tokens.verify("x.y")
    forged = jwt.encode({"iss": "elsewhere", "sub": "x"}, "k" * 32, algorithm="HS256")
    with pytest.raises(AuthenticationError, match="untrusted issuer"):
        tokens.verify(forged)
