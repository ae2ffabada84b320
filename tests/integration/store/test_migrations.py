"""The migrations build exactly the schema the ORM declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from code_engine.dora import tables as dora_tables  # noqa: F401 - registers its table
from code_engine.store import tables  # noqa: F401 - registers every table
from code_engine.store.base import Base
from code_engine.store.engine import Database
from code_engine.store.migrate import alembic_config, current_revision


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(database: Database) -> None:
    config = alembic_config(database.engine)
    head = current_revision(database.engine)
    command.downgrade(config, "base")
    assert current_revision(database.engine) is None
    command.upgrade(config, "head")
    assert current_revision(database.engine) == head
