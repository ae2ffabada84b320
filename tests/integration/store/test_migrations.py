"""The migrations build exactly the schema the ORM declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text

from code_engine.dora import tables as dora_tables  # noqa: F401 - registers its table
from code_engine.store import tables  # noqa: F401 - registers every table
from code_engine.store.base import Base
from code_engine.store.engine import Database
from code_engine.store.migrate import alembic_config, current_revision
from code_engine.store.tables import (
    ChangeRow,
    DeploymentChangeRow,
    DeploymentRow,
    EnvironmentRow,
    ServiceRow,
)


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


def test_0004_copies_each_delivered_commits_change_start(database: Database) -> None:
    command.downgrade(alembic_config(database.engine), "0003")
    at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    first = at - timedelta(hours=3)
    rows: list[tuple[Any, list[dict[str, Any]]]] = [
        (ServiceRow, [{"id": n, "name": f"s{n}", "created_at": at} for n in (1, 2)]),
        (EnvironmentRow, [{"id": 1, "service_id": 1, "name": "prod", "created_at": at}]),
        (DeploymentRow, [{"id": 1, "service_id": 1, "environment_id": 1, "created_at": at}]),
        (
            ChangeRow,
            [
                {
                    "service_id": service,
                    "sha": sha,
                    "first_commit_at": started,
                    "authored_at": at,
                    "committed_at": at,
                }
                for service, sha, started in [(1, "a", None), (1, "b", first), (2, "c", None)]
            ],
        ),
    ]
    with database.engine.begin() as conn:
        for row, values in rows:
            conn.execute(insert(row.__table__), values)
        conn.execute(
            text("INSERT INTO deployment_changes (deployment_id, sha) VALUES (1, :sha)"),
            [{"sha": sha} for sha in "abcd"],
        )
    command.upgrade(alembic_config(database.engine), "head")
    dc = DeploymentChangeRow
    with database.engine.connect() as conn:
        starts = dict(conn.execute(select(dc.sha, dc.change_started_at)).all())
    # "c" belongs to another service, "d" was never imported
    assert starts == {"a": at, "b": first, "c": None, "d": None}
