"""Keyset pagination by descending id, with an opaque cursor bound to its list.

A cursor carries the last id of a page and a digest of the query it came from (the table,
the filters and their values, as SQL before ordering and limit). A cursor is only accepted
by the list that made it: used on another resource or with other filters it is refused,
instead of silently paging through rows of a different list.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from code_engine.errors import UserError

T = TypeVar("T")
MAX_LIMIT = 500
_VERSION = "c1"
_DIGEST_CHARS = 22


class CursorError(UserError):
    """A cursor that is malformed or made by another list (HTTP 422)."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def query_digest(query: Select[Any]) -> str:
    """A short, stable digest of what `query` selects: its SQL and its parameter values."""
    compiled = query.compile()
    params = sorted((key, repr(value)) for key, value in compiled.params.items())
    material = f"{compiled}\n{params!r}".encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(material).digest()).decode()
    return digest[:_DIGEST_CHARS]


def digest_of(*parts: object) -> str:
    """A short, stable digest of a list's identity for lists not built as one `Select`."""
    material = repr(parts).encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(material).digest()).decode()
    return digest[:_DIGEST_CHARS]


def encode_cursor(last_id: int, digest: str) -> str:
    raw = f"{_VERSION}:{last_id}:{digest}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, digest: str) -> int:
    """The last id carried by `cursor`, when it was made by the list of `digest`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        version, last, carried = text.split(":")
        if version != _VERSION or not last.isdigit() or len(last) > 18:
            raise ValueError(version)
    except (ValueError, UnicodeDecodeError):
        raise CursorError(
            "cursor: not a cursor of this API; pass the next_cursor of the previous page"
        ) from None
    if not hmac.compare_digest(carried.encode(), digest.encode()):
        raise CursorError(
            "cursor: made by another list (other resource or filters); "
            "start again from the first page with these filters"
        )
    return int(last)


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
    digest = query_digest(query)
    if cursor:
        query = query.where(id_column < decode_cursor(cursor, digest))
    query = query.order_by(id_column.desc()).limit(limit + 1)
    rows: list[Any] = (
        [row._asdict() for row in session.execute(query)]
        if mappings
        else list(session.scalars(query))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = (rows[-1]["id"] if mappings else rows[-1].id) if rows else None
    return Page(items=rows, next_cursor=encode_cursor(last, digest) if more and last else None)
