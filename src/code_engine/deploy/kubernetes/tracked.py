"""Which GitOps commits are CODE's own deployments (so a notification about one is not a second
record of it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.deploy.environments import RUN_SOURCE
from code_engine.deploy.kubernetes.state import GITOPS
from code_engine.store.tables import DeploymentRow

RECENT = 200  # a notification is about one of the latest deployments


def tracked_deployment(session: Session, revision: str | None) -> int | None:
    """The id of the deployment CODE ran that pushed `revision` (or its revert), if any."""
    if not revision:
        return None
    query = (
        select(DeploymentRow)
        .where(DeploymentRow.source == RUN_SOURCE)
        .order_by(DeploymentRow.id.desc())
        .limit(RECENT)
    )
    for row in session.scalars(query):
        gitops = (row.state or {}).get(GITOPS) or {}
        if revision in (gitops.get("commit"), gitops.get("revert_commit")):
            return row.id
    return None
