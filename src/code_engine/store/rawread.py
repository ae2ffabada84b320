"""A SELECT compiled once and run many times on the driver's own cursor.

For reads of hundreds of thousands of rows in a few hundred statements (the DORA
timelines), SQLAlchemy's per-execution work — result metadata, row objects, type
processing — costs more than the database. `RawRead` compiles the statement once for the
connection's dialect, applies the bind parameters' own processors (so a timestamp is
stored-format text on SQLite, a datetime on PostgreSQL) and returns the driver's tuples:
use it only for columns that need no result processing (numbers, text).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from sqlalchemy import Connection, Select


class RawRead:
    """`statement` ready to run on `connection` with different parameter values."""

    def __init__(self, connection: Connection, statement: Select[Any]) -> None:
        self.connection = connection
        dialect = connection.dialect
        self.compiled = statement.compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True}
        )
        self.sql = self.compiled.string
        self.positions = self.compiled.positiontup
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in self.compiled.binds.items():
            # the type as this dialect runs it (a TypeDecorator wraps its impl's processor)
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | MutableMapping[str, Any]:
        """The driver's parameters: a tuple for positional styles, else a dict."""
        params = self.compiled.construct_params(dict(values))
        for name, processor in self.processors.items():
            if name in params:
                params[name] = processor(params[name])
        if self.positions is not None:
            return tuple(params[name] for name in self.positions)
        return params

    def rows(self, values: Mapping[str, Any]) -> list[Any]:
        """Every row, as the driver's tuples."""
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(self.sql, self.parameters(values))
            return list(cursor.fetchall())
        finally:
            cursor.close()


def results(
    connection: Connection, jobs: Iterable[tuple[RawRead, Mapping[str, Any]]]
) -> Generator[list[Any], None, None]:
    """The rows of each job, in order.

    On PostgreSQL every statement is sent at once (psycopg's pipeline mode): the server
    runs the next ones while the caller works on these rows, instead of waiting for the
    caller between statements. Elsewhere the statements run one after the other.
    """
    driver = connection.connection.dbapi_connection
    pipeline = getattr(driver, "pipeline", None)
    if pipeline is None:
        for read, values in jobs:
            yield read.rows(values)
        return
    with pipeline():
        cursors = []
        for read, values in jobs:
            cursor = driver.cursor()  # type: ignore[union-attr]
            cursor.execute(read.sql, read.parameters(values))
            cursors.append(cursor)
        for cursor in cursors:
            try:
                yield list(cursor.fetchall())
            finally:
                cursor.close()
