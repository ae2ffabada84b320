"""deployment change start as POSIX seconds

`deployment_changes.change_started_at` (a timestamp) becomes `change_started_epoch`
(seconds since 1970, a float): the lead-time query reads a million of them, and
converting SQLite's text timestamps cost as much as reading the rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The same values as Python's `datetime.timestamp()`: SQLite stores
# `YYYY-MM-DD HH:MM:SS.ffffff` in UTC; whole seconds and microseconds are added as integers.
TO_SECONDS = {
    "sqlite": """
UPDATE deployment_changes SET change_started_epoch =
    (CAST(round((julianday(substr(change_started_at, 1, 19)) - 2440587.5) * 86400.0)
        AS INTEGER) * 1000000 + CAST(substr(change_started_at, 21, 6) AS INTEGER)) / 1000000.0
WHERE change_started_at IS NOT NULL
""",
    "postgresql": """
UPDATE deployment_changes SET change_started_epoch =
    CAST(EXTRACT(EPOCH FROM change_started_at) AS FLOAT8)
WHERE change_started_at IS NOT NULL
""",
}

# Downgrading copies the start from the commits again, as revision 0004 did.
FROM_CHANGES = """
UPDATE deployment_changes SET change_started_at = (
    SELECT CASE WHEN c.first_commit_at < c.authored_at THEN c.first_commit_at
        ELSE c.authored_at END
    FROM deployments d JOIN changes c ON c.service_id = d.service_id
    WHERE d.id = deployment_changes.deployment_id AND c.sha = deployment_changes.sha
)
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("deployment_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_started_epoch", sa.Float(), nullable=True))
    op.execute(TO_SECONDS.get(dialect, TO_SECONDS["postgresql"]))
    with op.batch_alter_table("deployment_changes", schema=None) as batch_op:
        batch_op.drop_column("change_started_at")


def downgrade() -> None:
    with op.batch_alter_table("deployment_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("change_started_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(FROM_CHANGES)
    with op.batch_alter_table("deployment_changes", schema=None) as batch_op:
        batch_op.drop_column("change_started_epoch")
