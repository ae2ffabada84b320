"""Issue and verify bearer JWTs: CODE's own EdDSA tokens, optionally an external OIDC issuer's."""

from __future__ import annotations

import json
import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import jwt

from code_engine.auth.keys import ALGORITHM, KeyRing
from code_engine.auth.roles import Binding
from code_engine.clock import Clock
from code_engine.errors import CodeError, ConfigError, UserError

LEEWAY_SECONDS = 5
# The latest NumericDate CODE accepts: 9999-12-31T23:59:59Z. Later ones are no dates at all.
LATEST_NUMERIC_DATE = 253_402_300_799
TIME_CLAIMS = ("exp", "nbf", "iat")
VERIFIED_CACHE_SIZE = 4096
EXTERNAL_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]


class AuthenticationError(CodeError):
    """Missing, malformed, expired or untrusted credentials (HTTP 401)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, and what they may do."""

    name: str
    kind: str
    bindings: frozenset[Binding]
    issuer: str
    token_id: str = ""
    expires_at: float = 0.0


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class ExternalIssuer:
    """A trusted OIDC issuer: its `iss`, audience, JWKS source and roles claim."""

    issuer: str
    audience: str
    jwks: str
    roles_claim: str = "roles"

    @cached_property
    def _client(self) -> jwt.PyJWKClient:
        """One client per issuer, so the JWKS is fetched once and cached, not per request."""
        return jwt.PyJWKClient(self.jwks, cache_keys=True, lifespan=900, timeout=10)

    def key_for(self, token: str) -> Any:
        if self.jwks.startswith(("https://", "http://")):
            try:
                return self._client.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientError:
                raise AuthenticationError(
                    "the external issuer's JWKS is unreachable or has no key for this token"
                ) from None
        try:
            jwk_set = jwt.PyJWKSet.from_dict(json.loads(Path(self.jwks).read_text("utf-8")))
        except (OSError, ValueError, jwt.PyJWTError):
            raise ConfigError(
                f"{self.jwks}: cannot read the external JWKS (CODE_OIDC_JWKS): "
                "missing, unreadable, or not a JWK set"
            ) from None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in jwk_set.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise AuthenticationError("token signed by a key the external issuer does not publish")


class TokenService:
    """Signs tokens with the active key and verifies tokens from the trusted issuers."""

    def __init__(
        self,
        keyring: KeyRing,
        clock: Clock,
        *,
        issuer: str,
        audience: str,
        external: ExternalIssuer | None = None,
    ):
        self.keyring = keyring
        self._clock = clock
        self.issuer = issuer
        self.audience = audience
        self.external = external
        # Verified tokens, so a client reusing its token costs one signature check in total;
        # time claims are re-checked on every use.
        self._verified: OrderedDict[str, tuple[Principal, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, name: str, kind: str, bindings: frozenset[Binding], ttl: int) -> IssuedToken:
        now = self._clock()
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": name,
            "kind": kind,
            "roles": sorted(b.render() for b in bindings),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl)).timestamp()),
            "jti": secrets.token_hex(12),
        }
        key = self.keyring.active
        token = jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})
        return IssuedToken(access_token=token, expires_in=ttl)

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token or raise AuthenticationError."""
        with self._lock:
            cached = self._verified.get(token)
            if cached is not None:
                self._verified.move_to_end(token)
        if cached is not None:
            principal, expires, not_before = cached
            _check_times(self._clock().timestamp(), expires, not_before)
            return principal
        principal, expires, not_before = self._verify_uncached(token)
        with self._lock:
            self._verified[token] = (principal, expires, not_before)
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _verify_uncached(self, token: str) -> tuple[Principal, float, float]:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("malformed token: not a signed JWT") from None
        if not isinstance(unverified, Mapping):
            raise AuthenticationError("malformed token: its claims are not a JSON object")
        issuer = unverified.get("iss")
        if issuer == self.issuer:
            key = self.keyring.verifying_key(str(header.get("kid", "")))
            if key is None:
                raise AuthenticationError("token signed by an unknown or expired key")
            claims = self._decode(token, key, [ALGORITHM], self.audience, self.issuer)
            roles_claim = "roles"
        elif self.external is not None and issuer == self.external.issuer:
            key = self.external.key_for(token)
            claims = self._decode(
                token, key, EXTERNAL_ALGORITHMS, self.external.audience, self.external.issuer
            )
            roles_claim = self.external.roles_claim
        else:
            raise AuthenticationError("token from an untrusted issuer")
        expires = float(claims["exp"])
        principal = Principal(
            name=str(claims.get("sub", "")),
            kind=str(claims.get("kind", "user")),
            bindings=_bindings(claims.get(roles_claim, [])),
            issuer=str(issuer),
            token_id=str(claims.get("jti", "")),
            expires_at=expires,
        )
        return principal, expires, float(claims.get("nbf", claims["iat"]))

    def _decode(
        self, token: str, key: Any, algorithms: list[str], audience: str, issuer: str
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = _ClockedJWT(self._clock).decode(
                token,
                key,
                algorithms=algorithms,
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {_reason(exc)}") from None
        return claims


class _ClockedJWT(jwt.PyJWT):
    """PyJWT's own claim checks, with `now` from CODE's injected clock, after a check that
    `exp`, `nbf` and `iat` are numbers of seconds that name a real date."""

    def __init__(self, clock: Clock):
        super().__init__()
        self._clock = clock

    def _validate_claims(
        self, payload: dict[str, Any], options: Any, *args: Any, **kwargs: Any
    ) -> None:
        for claim in TIME_CLAIMS:
            if claim in payload and not _is_numeric_date(payload[claim]):
                raise _NotANumericDateError(claim)
        untimed: Any = {**options, "verify_exp": False, "verify_nbf": False, "verify_iat": False}
        super()._validate_claims(payload, untimed, *args, **kwargs)
        now = self._clock().timestamp()
        leeway = float(kwargs.get("leeway", LEEWAY_SECONDS))
        if "iat" in payload and options["verify_iat"]:
            self._validate_iat(payload, now, leeway)
        if "nbf" in payload and options["verify_nbf"]:
            self._validate_nbf(payload, now, leeway)
        if "exp" in payload and options["verify_exp"]:
            self._validate_exp(payload, now, leeway)


class _NotANumericDateError(jwt.InvalidTokenError):
    def __init__(self, claim: str):
        super().__init__(claim)
        self.claim = claim


def _is_numeric_date(value: object) -> bool:
    """RFC 7519 NumericDate: a JSON number of seconds, finite, from 1970 to the year 9999."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0 <= value <= LATEST_NUMERIC_DATE


def _reason(exc: jwt.PyJWTError) -> str:
    """What is wrong with the token, in words (never the library's exception text)."""
    if isinstance(exc, _NotANumericDateError):
        return f"claim {exc.claim!r} must be a number of seconds since 1970 (a NumericDate)"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"claim {exc.claim!r} is missing"
    reasons: list[tuple[type[jwt.PyJWTError], str]] = [
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.ImmatureSignatureError, "not yet valid"),
        (jwt.InvalidIssuedAtError, "claim 'iat' is not a valid date"),
        (jwt.InvalidAudienceError, "issued for another audience"),
        (jwt.InvalidIssuerError, "issued by another issuer"),
        (jwt.InvalidAlgorithmError, "signed with an algorithm CODE does not accept"),
        (jwt.InvalidSignatureError, "signature does not verify"),
        (jwt.InvalidKeyError, "signed with an unusable key"),
    ]
    for kind, reason in reasons:
        if isinstance(exc, kind):
            return reason
    return "malformed or unverifiable"


def _check_times(now: float, expires: float, not_before: float) -> None:
    if expires + LEEWAY_SECONDS < now:
        raise AuthenticationError("invalid token: expired")
    if not_before - LEEWAY_SECONDS > now:
        raise AuthenticationError("invalid token: not yet valid")


def _bindings(raw: Any) -> frozenset[Binding]:
    if isinstance(raw, str):
        raw = raw.split()
    out: set[Binding] = set()
    for item in raw if isinstance(raw, list) else []:
        binding = _binding_or_none(str(item))
        if binding is not None:
            out.add(binding)
    return frozenset(out)


def _binding_or_none(text: str) -> Binding | None:
    try:
        return Binding.parse(text)
    except UserError:
        return None  # an external issuer may carry roles of other systems; ignore them
