"""The migrations build exactly the schema the ORM declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table, column, insert, select, table, text

from code_engine.dora import tables as dora_tables  # noqa: F401 - registers its table
from code_engine.dora.deliveries import unpack_seconds
from code_engine.dr import tables as dr_tables  # noqa: F401 - registers its tables
from code_engine.pipeline import tables as pipeline_tables  # noqa: F401 - registers its table
from code_engine.policy import tables as policy_tables  # noqa: F401 - registers its table
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

# `deployments` as revisions before 0008 know it (no stored lead times)
OLD_DEPLOYMENTS = Table(
    "deployments",
    MetaData(),
    *(
        Column(c.name, c.type, default=c.default, primary_key=c.primary_key)
        for c in DeploymentRow.__table__.columns
        if c.name not in ("lead_times", "lead_unknown")
    ),
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
        (OLD_DEPLOYMENTS, [{"id": 1, "service_id": 1, "environment_id": 1, "created_at": at}]),
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
            conn.execute(insert(getattr(row, "__table__", row)), values)
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
            insert(OLD_DEPLOYMENTS),
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


def test_0008_stores_each_deployments_first_deliveries(database: Database) -> None:
    command.downgrade(alembic_config(database.engine), "0007")
    at = datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=timezone.utc)
    with database.engine.begin() as conn:
        conn.execute(insert(ServiceRow.__table__), {"id": 1, "name": "s1", "created_at": at})
        conn.execute(
            insert(EnvironmentRow.__table__),
            [{"id": n, "service_id": 1, "name": name, "created_at": at}
             for n, name in ((1, "staging"), (2, "prod"))],
        )  # fmt: skip
        # 1 (prod) delivers a, b; 2 (prod, failed) retries c; 3 (prod) a again, c, d;
        # 4 (staging) a: first there; 5 (prod, pending) has no finish yet
        deployments = [
            (1, 2, "succeeded", at),
            (2, 2, "failed", at + timedelta(hours=1)),
            (3, 2, "succeeded", at + timedelta(hours=2)),
            (4, 1, "succeeded", at + timedelta(hours=3)),
            (5, 2, "pending", None),
        ]
        conn.execute(
            insert(OLD_DEPLOYMENTS),
            [{"id": i, "service_id": 1, "environment_id": env, "status": status,
              "finished_at": finished, "created_at": at}
             for i, env, status, finished in deployments],
        )  # fmt: skip
        started = {"a": at.timestamp() - 60, "b": None, "c": at.timestamp() - 7200.5, "d": None}
        delivered = [(1, "a"), (1, "b"), (2, "c"), (3, "a"), (3, "c"), (3, "d"), (4, "a"), (5, "e")]
        conn.execute(
            insert(DeploymentChangeRow.__table__),
            [{"deployment_id": i, "sha": sha, "change_started_epoch": started.get(sha)}
             for i, sha in delivered],
        )  # fmt: skip
    command.upgrade(alembic_config(database.engine), "head")
    d = DeploymentRow
    with database.engine.connect() as conn:
        rows = conn.execute(select(d.id, d.lead_times, d.lead_unknown)).all()
    stored = {i: (None if p is None else unpack_seconds(p).tolist(), n) for i, p, n in rows}
    assert stored == {
        1: ([60.0], 1),
        2: (None, 0),
        3: ([4 * 3600 + 0.5], 1),
        4: ([3 * 3600 + 60.0], 0),
        5: (None, 0),
    }
