"""Keyset pagination by descending id, with an opaque cursor."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from code_engine.errors import UserError

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind != "id":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"invalid cursor {cursor!r}") from None


def paginate(
    session: Session,
    query: Select[Any],
    id_column: Any,
    limit: int,
    cursor: str | None,
    *,
    mappings: bool = False,
) -> Page[Any]:
    """Run `query` newest first, `limit` rows after `cursor`.

    Rows are ORM objects, or with `mappings=True` plain dicts of the selected columns (much
    cheaper for lists);
    either way they carry an `id`.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor:
        query = query.where(id_column < decode_cursor(cursor))
    query = query.order_by(id_column.desc()).limit(limit + 1)
    rows: list[Any] = (
        [row._asdict() for row in session.execute(query)]
        if mappings
        else list(session.scalars(query))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = (rows[-1]["id"] if mappings else rows[-1].id) if rows else None
    return Page(items=rows, next_cursor=encode_cursor(last) if more and last else None)
