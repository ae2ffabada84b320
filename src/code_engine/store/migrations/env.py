"""Alembic environment: uses the engine handed over in `config.attributes`.

The schema is the explicit migrations in `versions/`; `target_metadata` only matters to a
comparison with the ORM (`compare_metadata`, autogenerate). It holds the core tables and
whatever capability tables are registered on `Base.metadata` by importing their store
modules: core never imports a capability to find them.
"""

from __future__ import annotations

from alembic import context

from code_engine.store import tables  # noqa: F401 - registers the core tables on the metadata
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
