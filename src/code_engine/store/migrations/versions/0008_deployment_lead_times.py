"""lead times stored on each successful deployment

`deployments.lead_times` keeps the lead time (seconds, little-endian doubles, ascending)
of every commit a successful deployment delivered first in its service and environment,
`deployments.lead_unknown` how many of those had no known change start. The DORA read then
takes one row per deployment instead of one per delivered commit. The backfill walks each
environment's successful deployments by finish time once, as `deploy.deliveries` defines
the first delivery (finish time, then id).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import struct
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# POSIX seconds of `deployments.finished_at`, the same value as `datetime.timestamp()`.
FINISHED_SECONDS = {
    "sqlite": "(CAST(round((julianday(substr(d.finished_at, 1, 19)) - 2440587.5) * 86400.0)"
    " AS INTEGER) * 1000000 + CAST(substr(d.finished_at, 21, 6) AS INTEGER)) / 1000000.0",
    "postgresql": "CAST(EXTRACT(EPOCH FROM d.finished_at) AS FLOAT8)",
}

# Every commit of every successful deployment, in the order that decides first deliveries.
DELIVERIES = """
SELECT d.id, d.service_id, d.environment_id, {finished}, dc.sha, dc.change_started_epoch
FROM deployments d LEFT JOIN deployment_changes dc ON dc.deployment_id = d.id
WHERE d.status = 'succeeded' AND d.finished_at IS NOT NULL
ORDER BY d.service_id, d.environment_id, d.finished_at, d.id
"""


STORE = (
    "UPDATE deployments SET lead_times = :lead_times, lead_unknown = :lead_unknown WHERE id = :id"
)


def _backfill(bind: Any) -> None:
    finished_sql = FINISHED_SECONDS.get(bind.dialect.name, FINISHED_SECONDS["postgresql"])
    # streamed (a server-side cursor on PostgreSQL): a large history never sits in memory
    query = sa.text(DELIVERIES.format(finished=finished_sql)).execution_options(stream_results=True)
    rows = bind.execute(query)
    pending: list[dict[str, Any]] = []
    scope: tuple[int, int] | None = None
    seen: set[str] = set()
    current: int | None = None
    leads: list[float] = []
    unknown = 0

    def close() -> None:
        if current is not None:
            leads.sort()
            packed = struct.pack(f"<{len(leads)}d", *leads)
            pending.append({"id": current, "lead_times": packed, "lead_unknown": unknown})

    for deployment_id, service_id, environment_id, finished, sha, started in rows:
        if deployment_id != current:
            close()
            current, leads, unknown = deployment_id, [], 0
            if (service_id, environment_id) != scope:
                scope, seen = (service_id, environment_id), set()
        if sha is None or sha in seen:
            continue
        seen.add(sha)
        if started is None:
            unknown += 1
        else:
            lead = finished - started
            leads.append(lead if lead > 0.0 else 0.0)
    close()
    rows.close()
    for start in range(0, len(pending), 1000):
        bind.execute(sa.text(STORE), pending[start : start + 1000])


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("lead_times", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("lead_unknown", sa.Integer(), nullable=False, server_default="0")
        )
    _backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("lead_unknown")
        batch.drop_column("lead_times")
