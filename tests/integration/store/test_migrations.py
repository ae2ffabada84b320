"""The migrations build exactly the schema the ORM declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, insert, select, table, text

from code_engine.dora import tables as dora_tables  # noqa: F401 - registers its table
from code_engine.store import tables  # noqa: F401 - registers every table
from code_engine.store.base import Base, UTCDateTime
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
        starts = dict(conn.execute(select(dc.sha, dc.change_started_epoch)).all())
    # "c" belongs to another service, "d" was never imported
    assert starts == {"a": at.timestamp(), "b": first.timestamp(), "c": None, "d": None}


def test_0007_keeps_change_starts_to_the_microsecond(database: Database) -> None:
    command.downgrade(alembic_config(database.engine), "0006")
    at = datetime(2026, 3, 2, 9, 0, 59, 999_700, tzinfo=timezone.utc)
    # `deployment_changes` as revision 0006 left it: the start is a timestamp
    old = table("deployment_changes", column("deployment_id"), column("sha"),
                column("change_started_at", UTCDateTime()))  # fmt: skip
    with database.engine.begin() as conn:
        conn.execute(insert(ServiceRow.__table__), {"id": 1, "name": "s1", "created_at": at})
        conn.execute(
            insert(EnvironmentRow.__table__),
            {"id": 1, "service_id": 1, "name": "prod", "created_at": at},
        )
        conn.execute(
            insert(DeploymentRow.__table__),
            {"id": 1, "service_id": 1, "environment_id": 1, "created_at": at},
        )
        conn.execute(
            insert(old),
            [{"deployment_id": 1, "sha": "a", "change_started_at": at},
             {"deployment_id": 1, "sha": "b", "change_started_at": None}],
        )  # fmt: skip
    command.upgrade(alembic_config(database.engine), "head")
    dc = DeploymentChangeRow
    with database.engine.connect() as conn:
        stored = dict(conn.execute(select(dc.sha, dc.change_started_epoch)).all())
    assert stored == {"a": at.timestamp(), "b": None}
