"""Engine and session factory: SQLite (WAL, foreign keys) by default, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from code_engine.store.datadir import secure_database_file


@dataclass(frozen=True)
class Database:
    """An engine and its session factory; `session()` is one unit of work."""

    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_database(url: str, *, echo: bool = False) -> Database:
    """Create the engine for `url`; SQLite files get their directory and WAL mode."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            secure_database_file(Path(parsed.database))
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        # A checkout must never wait: bounded reads run on the event loop (api/deps.py), and a
        # loop blocked on the pool could never hand a connection back. SQLite connections are
        # cheap file handles, so the pool keeps 10 and opens more on demand.
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = -1
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 20
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return Database(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
