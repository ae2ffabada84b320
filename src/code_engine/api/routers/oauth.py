"""OAuth2 token endpoint (client_credentials, password) and the JWKS document.

Errors here follow RFC 6749 section 5.2 (`{"error": ..., "error_description": ...}`) so that
standard OAuth2 clients understand them; every other route uses CODE's error shape.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from code_engine.api.deps import RuntimeDep
from code_engine.audit import trail as audit
from code_engine.auth import principals
from code_engine.auth.throttle import Throttled
from code_engine.observe.logging import get_logger
from code_engine.runtime import Runtime

router = APIRouter(tags=["auth"])
log = get_logger("code_engine.auth")


class OAuthErrorOut(BaseModel):
    """RFC 6749 section 5.2."""

    error: str
    error_description: str


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 scheme name
    expires_in: int


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="code-engine"'} if status == 401 else None
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**(headers or {}), "Cache-Control": "no-store"},
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    summary="Issue an access token (RFC 6749: client_credentials or password grant)",
    responses={
        400: {"model": OAuthErrorOut, "description": "invalid_grant, unsupported_grant_type"},
        401: {"model": OAuthErrorOut, "description": "invalid_client"},
    },
)
async def token(
    request: Request,
    runtime: RuntimeDep,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,  # noqa: ARG001 - accepted, roles come from RBAC
) -> Any:
    settings = runtime.settings
    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        name, secret = basic or (client_id or "", client_secret or "")
        kind = "client"
        ttl = settings.access_token_ttl_seconds
        failure = (401, "invalid_client", "client authentication failed")
    elif grant_type == "password":
        name, secret, kind = username or "", password or "", "user"
        ttl = settings.user_token_ttl_seconds
        failure = (400, "invalid_grant", "invalid username or password")
    else:
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r}")
    address = request.client.host if request.client else "-"
    try:
        # refused attempts are answered here, on the event loop, without a thread or a hash
        runtime.guard.admit(name, address)
    except Throttled as exc:
        return _throttled(exc)

    def check_and_answer() -> JSONResponse:
        try:
            account = runtime.guard.check(
                name, address, lambda: principals.authenticate(runtime.db, kind, name, secret)
            )
        except Throttled as exc:
            return _throttled(exc)
        return _answer(runtime, account, name, grant_type, ttl, failure)

    return await run_in_threadpool(check_and_answer)


def _throttled(exc: Throttled) -> JSONResponse:
    response = _oauth_error(429, "slow_down", str(exc))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _answer(
    runtime: Runtime,
    account: principals.Account | None,
    name: str,
    grant_type: str,
    ttl: int,
    failure: tuple[int, str, str],
) -> JSONResponse:
    with runtime.db.session() as session:
        audit.record(
            session,
            at=runtime.clock(),
            principal=name or "-",
            action="auth.token",
            outcome="ok" if account else "denied",
            detail={"grant_type": grant_type},
        )
    if account is None:
        log.warning("token refused", principal=name, grant_type=grant_type)
        return _oauth_error(*failure)
    issued = runtime.tokens.issue(account.name, account.kind, account.bindings, ttl)
    return JSONResponse(
        TokenOut(access_token=issued.access_token, expires_in=issued.expires_in).model_dump(),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.get("/.well-known/jwks.json", summary="Public keys that verify CODE's tokens")
def jwks(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.tokens.keyring.jwks()
