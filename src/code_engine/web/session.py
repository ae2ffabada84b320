"""Browser sessions: the password grant behind a form, the token in a strict cookie.

The API keeps bearer tokens; the pages read the same token from an HttpOnly,
SameSite=Strict cookie, so scripts cannot read it and other sites cannot send it.
"""

from __future__ import annotations

from fastapi import Request, Response

from code_engine.audit import trail as audit
from code_engine.auth import principals
from code_engine.auth.roles import Role, allows, visible_environments
from code_engine.auth.tokens import AuthenticationError, Principal
from code_engine.observe.logging import get_logger
from code_engine.runtime import Runtime

COOKIE = "code_session"
log = get_logger("code_engine.web")


def log_in(runtime: Runtime, username: str, password: str, address: str) -> str | None:
    """A token for a user's valid password (the `password` grant), else None.

    Raises `Throttled` when this name or address has failed too often lately.
    """
    account = runtime.guard.check(
        username, address, lambda: principals.authenticate(runtime.db, "user", username, password)
    )
    with runtime.db.session() as session:
        audit.record(
            session,
            at=runtime.clock(),
            principal=username or "-",
            action="auth.token",
            outcome="ok" if account else "denied",
            detail={"grant_type": "password", "via": "web"},
        )
    if account is None:
        log.warning("web login refused", principal=username)
        return None
    ttl = runtime.settings.user_token_ttl_seconds
    return runtime.tokens.issue(account.name, account.kind, account.bindings, ttl).access_token


def set_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def viewer(request: Request, runtime: Runtime) -> Principal | None:
    """The signed-in principal with at least the viewer role, else None (log in again)."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    try:
        principal = runtime.tokens.verify(token)
        runtime.gate.check(principal)
    except AuthenticationError:
        return None
    if not any(binding.role >= Role.viewer for binding in principal.bindings):
        return None
    return principal


def may_view(principal: Principal, environment: str) -> bool:
    """The dashboard shows an environment to viewers of that environment (or global ones)."""
    return allows(principal.bindings, Role.viewer, environment)


def default_environment(principal: Principal) -> str:
    """prod when the principal may view it, else the first environment it may view."""
    shown = visible_environments(principal.bindings, Role.viewer)
    if shown is None or "prod" in shown or not shown:
        return "prod"
    return sorted(shown)[0]


def log_out(request: Request, runtime: Runtime) -> None:
    """Revoke the session's token, so a copy of the cookie stops working too."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return
    try:
        principal = runtime.tokens.verify(token)
    except AuthenticationError:
        return  # expired or unknown: nothing left to revoke
    runtime.gate.revoke(principal)
    with runtime.db.session() as session:
        audit.record(session, at=runtime.clock(), principal=principal.name, action="auth.logout")


def safe_next(target: str | None) -> str:
    """Only a local path is a place to return to after logging in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
