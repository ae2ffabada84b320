"""index deployments by environment and source

The controller looks for environments with deployments it ran (source 'code') on every tick;
with this index that is one seek per environment instead of a scan of the whole history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_deployments_env_source_status", "deployments", ["environment_id", "source", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_deployments_env_source_status", table_name="deployments")
