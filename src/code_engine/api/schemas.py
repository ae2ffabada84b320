"""Shapes shared by every resource: the page envelope and the error body."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

from code_engine.clock import as_utc

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    error: ErrorBody


class Public(BaseModel):
    """Base of response models read from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


# Timestamps in requests must carry an offset; they are stored and echoed in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(as_utc)]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not the JSON it claims to be"},
    401: {"model": ErrorOut, "description": "Missing or invalid bearer token"},
    403: {"model": ErrorOut, "description": "The principal's roles do not allow this"},
    404: {"model": ErrorOut, "description": "No such resource"},
    409: {"model": ErrorOut, "description": "Conflicts with the resource's state"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot serialize {type(value).__name__}")


def page_response(items: list[dict[str, Any]], next_cursor: str | None) -> Response:
    """A page of plain rows serialized directly, without re-validating each row.

    For hot list routes whose rows are the exact columns of their response model (the model
    still documents the shape in OpenAPI); datetimes are rendered in UTC as pydantic does.
    """
    body = json.dumps({"items": items, "next_cursor": next_cursor}, default=_json_default)
    return Response(content=body, media_type="application/json")
