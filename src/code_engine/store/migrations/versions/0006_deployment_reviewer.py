"""who approved or rejected a deployment

Environments whose code.yaml sets `protection.approval` hold each deployment until a second
person approves or rejects it; the deployments list shows who did.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("reviewed_by")
