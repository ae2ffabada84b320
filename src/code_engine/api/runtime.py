"""What a running app holds: settings, database, token service, clock, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from code_engine.auth.keys import KeyRing
from code_engine.auth.liveness import PrincipalGate
from code_engine.auth.tokens import ExternalIssuer, TokenService
from code_engine.clock import Clock
from code_engine.observe.metrics import ApiMetrics, create_metrics
from code_engine.settings import Settings
from code_engine.store.engine import Database, make_database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    tokens: TokenService
    clock: Clock
    metrics: ApiMetrics
    gate: PrincipalGate


def build_runtime(settings: Settings, clock: Clock, db: Database | None = None) -> Runtime:
    """Wire the engine's parts from settings; nothing here runs at import time."""
    database = db or make_database(settings.resolved_database_url)
    longest = max(settings.access_token_ttl_seconds, settings.user_token_ttl_seconds)
    keyring = KeyRing(
        settings.keys_dir,
        settings.jwt_key_passphrase.get_secret_value(),
        clock,
        max_token_ttl=timedelta(seconds=longest),
    ).load_or_create()
    external = None
    if settings.oidc_issuer and settings.oidc_jwks:
        external = ExternalIssuer(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience or settings.jwt_audience,
            jwks=settings.oidc_jwks,
            roles_claim=settings.oidc_roles_claim,
        )
    tokens = TokenService(
        keyring,
        clock,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        external=external,
    )
    gate = PrincipalGate(
        database, clock, issuer=settings.jwt_issuer, cache_seconds=settings.principal_check_seconds
    )
    return Runtime(
        settings=settings,
        db=database,
        tokens=tokens,
        clock=clock,
        metrics=create_metrics(),
        gate=gate,
    )
