"""`epoch(column)`: a UTC timestamp column as POSIX seconds, computed by the database.

Reading floats instead of datetimes spares parsing a string (SQLite) or building a
timezone-aware object (PostgreSQL) for each of the hundreds of thousands of rows a
metrics query reads. SQLite stores CODE's timestamps as `YYYY-MM-DD HH:MM:SS.ffffff` in
UTC: whole seconds and microseconds are added as integers, then divided once, so the
value is the same float Python's `datetime.timestamp()` gives.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class epoch(FunctionElement[float]):  # noqa: N801 - reads as the SQL function it renders
    """POSIX seconds of a timestamp column (NULL stays NULL)."""

    type = Float()
    inherit_cache = True
    name = "epoch"

    def __init__(self, column: ColumnElement[Any] | Any) -> None:
        super().__init__(column)


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    # Whole seconds from the first 19 characters: SQLite keeps milliseconds only, so a
    # fraction would be rounded. `julianday` is its cheapest parse; its day fraction is
    # within a few microseconds of the whole second, which `round` restores exactly.
    return (
        f"((CAST(round((julianday(substr({value}, 1, 19)) - 2440587.5) * 86400.0) AS INTEGER)"
        f" * 1000000 + CAST(substr({value}, 21, 6) AS INTEGER)) / 1000000.0)"
    )


@compiles(epoch, "postgresql")
def _epoch_postgresql(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS FLOAT8)"


@compiles(epoch)
def _epoch_default(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"
