"""Alembic environment: uses the engine handed over in `config.attributes`."""

from __future__ import annotations

from alembic import context

from code_engine.dora import tables as dora_tables  # noqa: F401 - registers its table
from code_engine.dr import tables as dr_tables  # noqa: F401 - registers its tables
from code_engine.store import tables  # noqa: F401 - registers every table on the metadata
from code_engine.store.base import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    context.run_migrations()
