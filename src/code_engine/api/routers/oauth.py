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

from code_engine.api.deps import RuntimeDep
from code_engine.audit import trail as audit
from code_engine.auth import principals
from code_engine.observe.logging import get_logger

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
def token(
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
        account = principals.authenticate(runtime.db, "client", name, secret)
        ttl = settings.access_token_ttl_seconds
        failure = (401, "invalid_client", "client authentication failed")
    elif grant_type == "password":
        name = username or ""
        account = principals.authenticate(runtime.db, "user", name, password or "")
        ttl = settings.user_token_ttl_seconds
        failure = (400, "invalid_grant", "invalid username or password")
    else:
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r}")
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
