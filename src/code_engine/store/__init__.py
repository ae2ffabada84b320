"""Persistence: SQLAlchemy 2 engine and sessions, ORM tables, Alembic migrations."""

from typing import Any

from code_engine.store.engine import Database, make_database

__all__ = ["Database", "make_database", "upgrade"]


def __getattr__(name: str) -> Any:
    """`upgrade` imports Alembic on first use: commands that do not migrate skip it."""
    if name == "upgrade":
        from code_engine.store.migrate import upgrade

        return upgrade
    raise AttributeError(name)
