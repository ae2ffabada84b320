"""What a running app holds: settings, database, token service, clock, metrics.

Built from core parts only, so that every interface (the API, the dashboard) can share it
without importing another interface.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter
from starlette.requests import Request

from code_engine.audit import trail as audit
from code_engine.auth.keys import KeyRing
from code_engine.auth.liveness import PrincipalGate
from code_engine.auth.throttle import Lockout, LoginGuard, ThrottlePolicy
from code_engine.auth.tokens import ExternalIssuer, TokenService
from code_engine.catalog.repos import RepositoryNotAllowedError, parse_allowed
from code_engine.clock import Clock
from code_engine.errors import ConfigError
from code_engine.observe.metrics import ApiMetrics, create_metrics
from code_engine.settings import Settings
from code_engine.store.datadir import secure_data_dir
from code_engine.store.engine import Database, make_database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    tokens: TokenService
    clock: Clock
    metrics: ApiMetrics
    gate: PrincipalGate
    guard: LoginGuard


def build_runtime(settings: Settings, clock: Clock, db: Database | None = None) -> Runtime:
    """Wire the engine's parts from settings; nothing here runs at import time."""
    check_allowed_repos(settings.allowed_repo_urls)
    secure_data_dir(settings.data_dir)
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
    metrics = create_metrics()
    return Runtime(
        settings=settings,
        db=database,
        tokens=tokens,
        clock=clock,
        metrics=metrics,
        guard=login_guard(settings, database, clock, metrics),
        gate=PrincipalGate(
            database,
            clock,
            issuer=settings.jwt_issuer,
            cache_seconds=settings.principal_check_seconds,
        ),
    )


def login_guard(settings: Settings, db: Database, clock: Clock, metrics: ApiMetrics) -> LoginGuard:
    """Bounded, throttled secret checks, counted in metrics and lockouts in the audit trail."""
    throttled = Counter(
        "code_auth_throttled",
        "Sign-in attempts refused before any secret check, by reason (busy, backoff, locked).",
        ["reason"],
        registry=metrics.registry,
    )
    lockouts = Counter(
        "code_auth_lockouts",
        "Names or addresses locked out after failures.",
        registry=metrics.registry,
    )

    def locked_out(lockout: Lockout) -> None:
        lockouts.inc()
        with db.session() as session:
            audit.record(
                session,
                at=clock(),
                principal=lockout.key,
                action="auth.lockout",
                outcome="denied",
                detail={"failures": lockout.failures, "seconds": settings.auth_lockout_seconds},
            )

    policy = ThrottlePolicy(
        max_concurrent=settings.auth_max_concurrent_checks,
        free_failures=settings.auth_free_failures,
        lockout_failures=settings.auth_lockout_failures,
        lockout_seconds=settings.auth_lockout_seconds,
    )
    return LoginGuard(
        policy,
        time.monotonic,
        on_throttled=lambda reason: throttled.labels(reason).inc(),
        on_lockout=locked_out,
    )


async def get_runtime(request: Request) -> Runtime:
    """The runtime the app was built with: a dependency of the API's routes and the pages."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def check_allowed_repos(text: str) -> None:
    """Refuse a malformed `CODE_ALLOWED_REPO_URLS` at start rather than at the first release."""
    try:
        parse_allowed(text)
    except RepositoryNotAllowedError as exc:
        raise ConfigError(f"CODE_ALLOWED_REPO_URLS: {exc}") from exc
