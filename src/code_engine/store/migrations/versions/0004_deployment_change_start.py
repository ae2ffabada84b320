"""deployment change start

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Each delivered commit's change start, from the commit the same service imported (NULL
# when it never did). A correlated subquery: the same statement on SQLite and PostgreSQL.
BACKFILL = """
UPDATE deployment_changes SET change_started_at = (
    SELECT CASE WHEN c.first_commit_at < c.authored_at THEN c.first_commit_at
        ELSE c.authored_at END
    FROM deployments d JOIN changes c ON c.service_id = d.service_id
    WHERE d.id = deployment_changes.deployment_id AND c.sha = deployment_changes.sha
)
"""


def upgrade() -> None:
    with op.batch_alter_table("deployment_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("change_started_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("deployment_changes", schema=None) as batch_op:
        batch_op.drop_column("change_started_at")
