"""Revision 0010: one in-flight deployment per environment, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from code_engine.store.engine import Database
from code_engine.store.migrate import alembic_config
from code_engine.store.tables import DeploymentRow, EnvironmentRow, ServiceRow

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _deployment(row_id: int, environment: int, status: str, **values: object) -> dict[str, object]:
    base = {"id": row_id, "service_id": 1, "environment_id": environment, "status": status}
    return {**base, "source": "code", "created_at": AT, "started_at": None, "state": {}, **values}


def test_0010_ends_all_but_the_newest_in_flight_deployment(database: Database) -> None:
    command.downgrade(alembic_config(database.engine), "0008")
    with database.engine.begin() as conn:
        conn.execute(insert(ServiceRow.__table__), {"id": 1, "name": "s1", "created_at": AT})
        conn.execute(
            insert(EnvironmentRow.__table__),
            [{"id": n, "service_id": 1, "name": f"e{n}", "created_at": AT} for n in (1, 2)],
        )
        conn.execute(
            insert(DeploymentRow.__table__),
            [
                _deployment(1, 1, "progressing", started_at=AT),  # raced with 2 and 3
                _deployment(2, 1, "pending"),
                _deployment(3, 1, "paused", started_at=AT),  # the newest: kept
                _deployment(4, 2, "awaiting_approval"),  # alone in its environment
                _deployment(5, 2, "pending", source="api"),  # recorded: not CODE's
            ],
        )
    command.upgrade(alembic_config(database.engine), "head")
    d = DeploymentRow
    with database.engine.connect() as conn:
        rows = conn.execute(select(d.id, d.status, d.message, d.finished_at).order_by(d.id))
        found = {row.id: row for row in rows}
    assert {i: r.status for i, r in found.items()} == {
        1: "failed",
        2: "rejected",
        3: "paused",
        4: "awaiting_approval",
        5: "pending",
    }
    assert found[1].message == "superseded by deployment 3: one rollout per environment"
    assert found[1].finished_at is not None and found[3].finished_at is None
    with pytest.raises(IntegrityError), database.engine.begin() as conn:
        conn.execute(insert(DeploymentRow.__table__), _deployment(6, 1, "pending"))
    with database.engine.begin() as conn:  # a finished one, or a recorded one, is fine
        conn.execute(insert(DeploymentRow.__table__), _deployment(7, 1, "succeeded"))
        conn.execute(insert(DeploymentRow.__table__), _deployment(8, 1, "pending", source="api"))
