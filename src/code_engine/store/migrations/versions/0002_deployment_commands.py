"""deployment commands

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_commands_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_commands")),
    )
    with op.batch_alter_table("deployment_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deployment_commands_deployment_id"), ["deployment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deployment_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployment_commands_deployment_id"))

    op.drop_table("deployment_commands")
