"""dora indexes and incident references

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dora_incident_refs",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("deployment_external_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_dora_incident_refs_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_dora_incident_refs")),
    )
    with op.batch_alter_table("dora_incident_refs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dora_incident_refs_deployment_external_id"),
            ["deployment_external_id"],
            unique=False,
        )
    # The last successful deployment before a window starts: one index seek per service.
    op.create_index(
        "ix_deployments_service_env_status_finished",
        "deployments",
        ["service_id", "environment_id", "status", "finished_at"],
    )
    # Whether a commit was delivered before: looked up by sha.
    op.create_index("ix_deployment_changes_sha", "deployment_changes", ["sha"])
    op.create_index("ix_incidents_service_opened", "incidents", ["service_id", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_service_opened", table_name="incidents")
    op.drop_index("ix_deployment_changes_sha", table_name="deployment_changes")
    op.drop_index("ix_deployments_service_env_status_finished", table_name="deployments")
    with op.batch_alter_table("dora_incident_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dora_incident_refs_deployment_external_id"))
    op.drop_table("dora_incident_refs")
