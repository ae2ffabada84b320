"""Persistence: SQLAlchemy 2 engine and sessions, ORM tables, Alembic migrations."""

from code_engine.store.engine import Database, make_database
from code_engine.store.migrate import upgrade

__all__ = ["Database", "make_database", "upgrade"]
