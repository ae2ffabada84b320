"""Settings and database for commands that act on the engine directly (not through the API).

The database layer (SQLAlchemy, the tables) is imported when a database is opened, not with
this module: a command that moves data first can open it on a thread meanwhile.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pydantic import ValidationError

from code_engine.errors import CodeError, ConfigError
from code_engine.settings import Settings

if TYPE_CHECKING:
    from code_engine.store.engine import Database


def load_settings(**overrides: object) -> Settings:
    """Read `CODE_*` settings; a bad value becomes one readable line per problem."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            name = f"CODE_{field.upper()}" if field else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None


def open_database(settings: Settings, migrate: bool = True) -> Database:
    from code_engine.store.engine import make_database
    from code_engine.store.heads import at_head

    db = make_database(settings.resolved_database_url)
    if migrate and not at_head(db.engine):
        from code_engine.store.migrate import upgrade  # alembic: only when there is work

        upgrade(db.engine)
    return db


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, place = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{place}"


class DatabaseOpening:
    """`open_database` on a thread: the imports, the connection and the migration check run
    while the command does its own work (a backup's dump, a restore's copy, which wait on
    other processes and on the disk). `get()` waits for it and raises what the opening raised.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._db: Database | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._open, name="code-open-database", daemon=True)
        self._starting = threading.Lock()

    def _open(self) -> None:
        try:
            self._db = open_database(self._settings)
        except Exception as exc:  # noqa: BLE001 - handed to the thread that waits
            where = _without_password(self._settings.resolved_database_url)
            self._error = CodeError(
                f"CODE's database {where} cannot be opened ({str(exc).splitlines()[0]}): "
                "nothing was recorded; what the command wrote elsewhere stays there"
            )
            self._error.__cause__ = exc

    def start(self) -> DatabaseOpening:
        """Start the opening; later calls, from any thread, change nothing."""
        with self._starting:
            if self._thread.ident is None:
                self._thread.start()
        return self

    def get(self) -> Database:
        self.start()  # a command that moved no data opens it when it first needs it
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._db is not None  # noqa: S101 - set whenever no error was
        return self._db

    def close(self) -> None:
        """Dispose of what was opened; an opening that never started is not started now."""
        with self._starting:
            started = self._thread.ident is not None
        if started:
            self._thread.join()
        if self._db is not None:
            self._db.dispose()
            self._db = None
