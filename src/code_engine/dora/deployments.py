"""The deployment store: every query of the deployments table and the commits they delivered.

Writes go through `dora.recording` (the one writer); this module reads. `deploy` uses it
for CODE's own deployments, `dora` for the four keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from code_engine.errors import NotFoundError
from code_engine.store.pagination import Page, paginate
from code_engine.store.tables import (
    DeploymentChangeRow,
    DeploymentRow,
    EnvironmentRow,
    ServiceRow,
)

Status = Literal[
    "awaiting_approval",
    "pending",
    "progressing",
    "paused",
    "succeeded",
    "failed",
    "rolled_back",
    "rejected",
]
STATUSES: tuple[str, ...] = get_args(Status)
# `rejected`: refused (or aborted) before approval; it never ran, so it is no DORA deployment
FINAL_STATUSES = frozenset({"succeeded", "failed", "rolled_back", "rejected"})
SUCCEEDED = "succeeded"


@dataclass(frozen=True)
class DeploymentRecord:
    """A deployment to record: one done elsewhere, or one CODE is about to run.

    `revision` is the sha it runs when a tool reported that alone (git then knows the
    commits); `received` says it was reported from outside, so later versions of it are
    compared with what was received (see `dora.dedupe`).
    """

    service_id: int
    environment_id: int
    version: str
    status: str
    created_at: datetime
    release_id: int | None = None
    external_id: str | None = None
    strategy: str = "all_at_once"
    trigger: str = "manual"
    source: str = "code"
    created_by: str = ""
    message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    commits: Sequence[str] = ()
    state: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None


def get_deployment(session: Session, deployment_id: int) -> DeploymentRow:
    row = session.get(DeploymentRow, deployment_id)
    if row is None:
        raise NotFoundError(f"no deployment {deployment_id}")
    return row


def find_external(session: Session, external_id: str) -> DeploymentRow | None:
    """The deployment a tool reported under `external_id`."""
    query = select(DeploymentRow).where(DeploymentRow.external_id == external_id)
    return session.scalars(query).first()


def commits_of(session: Session, deployment_id: int) -> list[str]:
    query = select(DeploymentChangeRow.sha).where(
        DeploymentChangeRow.deployment_id == deployment_id
    )
    return list(session.scalars(query))


def previous_success(session: Session, row: DeploymentRow) -> DeploymentRow | None:
    """The last successful deployment of the same service and environment before `row`."""
    query = (
        select(DeploymentRow)
        .where(
            DeploymentRow.service_id == row.service_id,
            DeploymentRow.environment_id == row.environment_id,
            DeploymentRow.status == SUCCEEDED,
            DeploymentRow.finished_at < row.finished_at,
            DeploymentRow.id != row.id,
        )
        .order_by(DeploymentRow.finished_at.desc(), DeploymentRow.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def next_success(session: Session, row: DeploymentRow) -> DeploymentRow | None:
    """The first successful deployment of the same service and environment after `row`."""
    query = (
        select(DeploymentRow)
        .where(
            DeploymentRow.service_id == row.service_id,
            DeploymentRow.environment_id == row.environment_id,
            DeploymentRow.status == SUCCEEDED,
            DeploymentRow.finished_at > row.finished_at,
        )
        .order_by(DeploymentRow.finished_at, DeploymentRow.id)
        .limit(1)
    )
    return session.scalars(query).first()


LIST_COLUMNS = (
    DeploymentRow.id,
    DeploymentRow.external_id,
    ServiceRow.name.label("service"),
    EnvironmentRow.name.label("environment"),
    DeploymentRow.version,
    DeploymentRow.strategy,
    DeploymentRow.status,
    DeploymentRow.trigger,
    DeploymentRow.source,
    DeploymentRow.created_by,
    DeploymentRow.reviewed_by,
    DeploymentRow.message,
    DeploymentRow.created_at,
    DeploymentRow.started_at,
    DeploymentRow.finished_at,
)


def deployment_summary(session: Session, deployment_id: int) -> Mapping[str, Any]:
    """One deployment as the list shows it (with service and environment names)."""
    row = session.execute(_summary_query().where(DeploymentRow.id == deployment_id)).mappings()
    found = row.first()
    if found is None:
        raise NotFoundError(f"no deployment {deployment_id}")
    return dict(found)


def _summary_query() -> Select[Any]:
    return (
        select(*LIST_COLUMNS)
        .join(ServiceRow, ServiceRow.id == DeploymentRow.service_id)
        .join(EnvironmentRow, EnvironmentRow.id == DeploymentRow.environment_id)
    )


def list_deployments(
    session: Session,
    limit: int,
    cursor: str | None,
    *,
    service_id: int | None = None,
    environment_id: int | None = None,
    status: str | None = None,
) -> Page[dict[str, Any]]:
    """Deployments newest first, as mappings of LIST_COLUMNS (one query, no ORM objects)."""
    query = _summary_query()
    if service_id is not None:
        query = query.where(DeploymentRow.service_id == service_id)
    if environment_id is not None:
        query = query.where(DeploymentRow.environment_id == environment_id)
    if status:
        query = query.where(DeploymentRow.status == status)
    return paginate(session, query, DeploymentRow.id, limit, cursor, mappings=True)
