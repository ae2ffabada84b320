"""one rollout per environment, enforced by a unique partial index

At most one deployment run by CODE is in flight (awaiting approval, pending, progressing or
paused) per environment. Two requests that race each insert their deployment; the index
makes the second insert fail in the database, whatever the isolation level.

A database written before the index may already hold several in-flight deployments of one
environment (the race this closes). The newest is the one the controller drives; each older
one ends here: `rejected` when it never started, `failed` when it had, with a message that
names the deployment that superseded it.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from code_engine.store.base import UTCDateTime

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

IN_FLIGHT = (
    "source = 'code' AND status IN ('awaiting_approval', 'pending', 'progressing', 'paused')"
)
INDEX = "ux_deployments_env_in_flight"
DEPLOYMENTS = sa.table(
    "deployments",
    sa.column("id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("message", sa.Text()),
    sa.column("finished_at", UTCDateTime()),
)


def upgrade() -> None:
    _end_superseded(op.get_bind())
    op.create_index(
        INDEX,
        "deployments",
        ["environment_id"],
        unique=True,
        sqlite_where=sa.text(IN_FLIGHT),
        postgresql_where=sa.text(IN_FLIGHT),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="deployments")


def _end_superseded(bind: sa.Connection) -> None:
    rows = bind.execute(
        sa.text(
            f"SELECT id, environment_id, started_at FROM deployments WHERE {IN_FLIGHT} "  # noqa: S608 - constant  # nosec B608
            "ORDER BY environment_id, id DESC"
        )
    ).all()
    newest: dict[int, int] = {}
    now = datetime.now(timezone.utc)
    for row_id, environment_id, started_at in rows:
        keeper = newest.setdefault(environment_id, row_id)
        if keeper == row_id:
            continue
        bind.execute(
            sa.update(DEPLOYMENTS)
            .where(DEPLOYMENTS.c.id == row_id)
            .values(
                status="rejected" if started_at is None else "failed",
                message=f"superseded by deployment {keeper}: one rollout per environment",
                finished_at=now,
            )
        )
