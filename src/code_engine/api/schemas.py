"""Shapes shared by every resource: the page envelope and the error body."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

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
    401: {"model": ErrorOut, "description": "Missing or invalid bearer token"},
    403: {"model": ErrorOut, "description": "The principal's roles do not allow this"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}
