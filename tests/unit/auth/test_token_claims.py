"""Time claims are numeric dates checked by PyJWT against CODE's clock; refusals in words."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt
import pytest

from code_engine.auth.keys import KeyRing
from code_engine.auth.tokens import AuthenticationError, TokenService


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(tmp_path: Path, clock: Clock) -> TokenService:
    ring = KeyRing(tmp_path / "keys", "", clock, timedelta(hours=1)).load_or_create()
    return TokenService(ring, clock, issuer="code", audience="code")


def _claims(clock: Clock, **changes: Any) -> dict[str, Any]:
    now = int(clock.now.timestamp())
    claims = {"iss": "code", "aud": "code", "sub": "ci", "iat": now, "nbf": now, "exp": now + 60}
    claims.update(changes)
    return claims


def _sign(tokens: TokenService, claims: dict[str, Any]) -> str:
    key = tokens.keyring.active
    return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid})


@pytest.mark.parametrize(
    "value", ["1767225660", float("nan"), float("inf"), -1, 1e300, True, None, [1], {"s": 1}]
)
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_time_claims_that_are_not_numeric_dates_are_refused(
    tokens: TokenService, clock: Clock, claim: str, value: object
) -> None:
    token = _sign(tokens, _claims(clock, **{claim: value}))
    with pytest.raises(AuthenticationError) as refused:
        tokens.verify(token)
    assert str(refused.value) == (
        f"invalid token: claim {claim!r} must be a number of seconds since 1970 (a NumericDate)"
    )


def test_fractional_numeric_dates_are_dates(tokens: TokenService, clock: Clock) -> None:
    now = clock.now.timestamp()
    token = _sign(tokens, _claims(clock, iat=now + 0.5, nbf=now, exp=now + 30.25))
    assert tokens.verify(token).name == "ci"


def test_times_are_checked_against_the_injected_clock(tokens: TokenService, clock: Clock) -> None:
    token = _sign(tokens, _claims(clock))
    assert tokens.verify(token).name == "ci"  # the wall clock is in another year
    early = _sign(tokens, _claims(clock, nbf=int(clock.now.timestamp()) + 60))
    with pytest.raises(AuthenticationError, match="^invalid token: not yet valid$"):
        tokens.verify(early)
    future_iat = _sign(tokens, _claims(clock, iat=int(clock.now.timestamp()) + 60))
    with pytest.raises(AuthenticationError, match="^invalid token: not yet valid$"):
        tokens.verify(future_iat)
    clock.now += timedelta(seconds=66)
    with pytest.raises(AuthenticationError, match="^invalid token: expired$"):
        tokens.verify(_sign(tokens, _claims(clock, exp=int(clock.now.timestamp()) - 6)))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "other"}, "issued for another audience"),
        ({"sub": None}, "claim 'sub' is missing"),
    ],
)
def test_refusals_say_what_is_wrong_in_words(
    tokens: TokenService, clock: Clock, changes: dict[str, Any], reason: str
) -> None:
    claims = {k: v for k, v in _claims(clock, **changes).items() if v is not None}
    with pytest.raises(AuthenticationError) as refused:
        tokens.verify(_sign(tokens, claims))
    assert str(refused.value) == f"invalid token: {reason}"


def test_a_token_whose_claims_are_not_an_object_is_malformed(tokens: TokenService) -> None:
    key = tokens.keyring.active
    token = jwt.api_jws.encode(
        json.dumps([1, 2]).encode(), key.private, algorithm="EdDSA", headers={"kid": key.kid}
    )
    with pytest.raises(AuthenticationError, match="^malformed token"):
        tokens.verify(token)
    with pytest.raises(AuthenticationError, match="^malformed token: not a signed JWT$"):
        tokens.verify("a.b.c")
