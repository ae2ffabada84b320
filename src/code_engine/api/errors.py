"""One JSON error shape for every failure: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from code_engine.auth.tokens import AuthenticationError
from code_engine.errors import CodeError, ConflictError, NotFoundError, UserError
from code_engine.observe.logging import get_logger
from code_engine.policy.model import PolicyDeniedError

log = get_logger("code_engine.api")


class PermissionDeniedError(CodeError):
    """Authenticated, but the principal's roles do not allow this (HTTP 403)."""


STATUS_BY_ERROR: list[tuple[type[Exception], int, str]] = [
    (AuthenticationError, 401, "unauthorized"),
    (PermissionDeniedError, 403, "forbidden"),
    (PolicyDeniedError, 403, "policy_denied"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (UserError, 422, "invalid"),
]


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _code_error(_request: Request, exc: Exception) -> JSONResponse:
    for kind, status, code in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            problems = getattr(exc, "problems", None)
            if problems:
                summary = getattr(exc, "summary", None) or f"{len(problems)} problem(s)"
                return error_response(status, code, summary, _problem_details(problems), headers)
            return error_response(status, code, str(exc), headers=headers)
    log.error("unhandled engine error", error=repr(exc))
    return error_response(500, "internal", "internal error")


def _problem_details(problems: Any) -> list[dict[str, str]]:
    """`field: message` lines (or Location objects) as `{"field", "message"}` details."""
    details = []
    for problem in problems:
        if isinstance(problem, str):
            field, _, message = problem.partition(": ")
            details.append(
                {"field": field, "message": message} if message else {"field": "", "message": field}
            )
        else:
            details.append(
                {
                    "field": getattr(problem, "field", ""),
                    "message": getattr(problem, "message", str(problem)),
                }
            )
    return details


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    details = [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in errors
    ]
    return error_response(422, "invalid", "request validation failed", details)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover - registered for it
        return await _unexpected(_request, exc)
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    code.update({413: "too_large", 429: "too_many_requests", 431: "headers_too_large"})
    return error_response(
        exc.status_code,
        code.get(exc.status_code, "error"),
        str(exc.detail),
        headers=dict(exc.headers or {}),
    )


async def _out_of_range(_request: Request, _exc: Exception) -> JSONResponse:
    # a number no row can have (SQLite refuses to bind integers beyond 64 bits)
    return error_response(404, "not_found", "no such resource: the number is out of range")


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL's numeric_value_out_of_range: an id beyond its column's 32 or 64 bits
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == "22003":
        return await _out_of_range(request, exc)
    return await _unexpected(request, exc)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", error=repr(exc))
    return error_response(500, "internal", "internal error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(CodeError, _code_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
