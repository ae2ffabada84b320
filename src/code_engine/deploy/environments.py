"""What runs where, as the deploy capability asks it.

The queries are the deployment store's (`code_engine.dora.runs`); this module names them for
the deploy capability's callers and adds the one release query they need with them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.dora.runs import (
    ACTIVE_STATUSES,
    AWAITING_APPROVAL,
    OPEN_STATUSES,
    RUN_SOURCE,
    ManagedEnvironment,
    active_deployment,
    active_deployment_ids,
    current_deployment,
    is_run,
    latest_run,
    managed_environments,
    open_deployment,
    succeeded_versions,
)
from code_engine.store.tables import ReleaseRow

__all__ = [
    "ACTIVE_STATUSES",
    "AWAITING_APPROVAL",
    "OPEN_STATUSES",
    "RUN_SOURCE",
    "ManagedEnvironment",
    "active_deployment",
    "active_deployment_ids",
    "current_deployment",
    "is_run",
    "latest_release",
    "latest_run",
    "managed_environments",
    "open_deployment",
    "succeeded_versions",
]


def latest_release(session: Session, service_id: int) -> ReleaseRow | None:
    query = select(ReleaseRow).where(ReleaseRow.service_id == service_id)
    return session.scalars(query.order_by(ReleaseRow.id.desc()).limit(1)).first()
