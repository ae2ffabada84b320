"""When each delivered commit's change started, copied onto the deployment's commit list.

A commit may be imported before or after the deployments that delivered it: whichever
arrives second copies the change start, so the stored lead times are the same in any
arrival order (and through every door: webhooks, batches, resource routes, controller).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.orm import Session

from code_engine.dora.deliveries import SUCCEEDED, refresh_lead_times
from code_engine.store.sqltime import epoch
from code_engine.store.tables import ChangeRow, DeploymentChangeRow, DeploymentRow


def change_started() -> ColumnElement[Any]:
    """When a commit's change started: its first commit's time when earlier, else authored."""
    c = ChangeRow
    return case((c.first_commit_at < c.authored_at, c.first_commit_at), else_=c.authored_at)


def refresh_change_starts(session: Session, deployment_id: int) -> None:
    """Copy each commit's change start (POSIX seconds, NULL when unknown) onto the
    deployment's commits."""
    dc = DeploymentChangeRow
    start = (
        select(epoch(change_started()))
        .join(DeploymentRow, DeploymentRow.service_id == ChangeRow.service_id)
        .where(DeploymentRow.id == dc.deployment_id, ChangeRow.sha == dc.sha)
        .scalar_subquery()
    )
    session.flush()
    session.execute(
        update(dc)
        .where(dc.deployment_id == deployment_id)
        .values(change_started_epoch=start)
        .execution_options(synchronize_session="fetch")
    )


def record_change_start(session: Session, service_id: int, sha: str) -> None:
    """A commit (re)imported: the deployments of its service that delivered it follow."""
    dc = DeploymentChangeRow
    start = (
        select(epoch(change_started()))
        .where(ChangeRow.service_id == service_id, ChangeRow.sha == sha)
        .scalar_subquery()
    )
    ours = select(DeploymentRow.id).where(DeploymentRow.service_id == service_id)
    session.flush()
    session.execute(
        update(dc)
        .where(dc.sha == sha, dc.deployment_id.in_(ours))
        .values(change_started_epoch=start)
        .execution_options(synchronize_session="fetch")
    )
    # only a successful deployment stores lead times: the others have none to refresh
    succeeded = ours.where(DeploymentRow.status == SUCCEEDED)
    delivering = select(dc.deployment_id).where(dc.sha == sha, dc.deployment_id.in_(succeeded))
    refresh_lead_times(session, session.scalars(delivering))
