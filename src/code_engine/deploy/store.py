"""Queries for releases and deployments (and the commits each deployment delivered)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Select, case, select, update
from sqlalchemy.orm import Session

from code_engine.deploy.deliveries import SUCCEEDED, refresh_deliveries, refresh_lead_times
from code_engine.errors import ConflictError, NotFoundError
from code_engine.store.pagination import Page, paginate
from code_engine.store.sqltime import epoch
from code_engine.store.tables import (
    ChangeRow,
    DeploymentChangeRow,
    DeploymentRow,
    EnvironmentRow,
    ReleaseRow,
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


def create_release(
    session: Session,
    service_id: int,
    version: str,
    sha: str,
    artifact: str,
    by: str,
    now: datetime,
) -> ReleaseRow:
    if find_release(session, service_id, version) is not None:
        raise ConflictError(f"release {version!r} already exists")
    row = ReleaseRow(
        service_id=service_id,
        version=version,
        sha=sha,
        artifact=artifact,
        created_by=by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def find_release(session: Session, service_id: int, version: str) -> ReleaseRow | None:
    query = select(ReleaseRow).where(
        ReleaseRow.service_id == service_id, ReleaseRow.version == version
    )
    return session.scalars(query).first()


def require_release(session: Session, service_id: int, version: str) -> ReleaseRow:
    row = find_release(session, service_id, version)
    if row is None:
        raise NotFoundError(f"no release {version!r}")
    return row


def list_releases(
    session: Session, service_id: int | None, limit: int, cursor: str | None
) -> Page[ReleaseRow]:
    query = select(ReleaseRow)
    if service_id is not None:
        query = query.where(ReleaseRow.service_id == service_id)
    return paginate(session, query, ReleaseRow.id, limit, cursor)


@dataclass(frozen=True)
class DeploymentRecord:
    """A deployment to record: one done elsewhere, or one CODE is about to run."""

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


def record_deployment(session: Session, record: DeploymentRecord) -> tuple[DeploymentRow, bool]:
    """Insert, or update the row with the same external id; returns (row, created)."""
    row = None
    if record.external_id:
        row = session.scalars(
            select(DeploymentRow).where(DeploymentRow.external_id == record.external_id)
        ).first()
    created = row is None
    if row is None:
        row = DeploymentRow(created_at=record.created_at, external_id=record.external_id)
        session.add(row)
    for name in (
        "service_id",
        "environment_id",
        "release_id",
        "version",
        "status",
        "strategy",
        "trigger",
        "source",
        "created_by",
        "message",
        "started_at",
        "finished_at",
        "state",
    ):
        setattr(row, name, getattr(record, name))
    session.flush()
    set_commits(session, row.id, record.commits)
    refresh_deliveries(session, [row.id])
    return row, created


def set_commits(session: Session, deployment_id: int, shas: Sequence[str]) -> None:
    """Add the commits the deployment does not list yet, with their change starts."""
    existing = set(commits_of(session, deployment_id))
    for sha in dict.fromkeys(shas):
        if sha not in existing:
            session.add(DeploymentChangeRow(deployment_id=deployment_id, sha=sha))
    refresh_change_starts(session, deployment_id)


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


def commits_of(session: Session, deployment_id: int) -> list[str]:
    query = select(DeploymentChangeRow.sha).where(
        DeploymentChangeRow.deployment_id == deployment_id
    )
    return list(session.scalars(query))


def get_deployment(session: Session, deployment_id: int) -> DeploymentRow:
    row = session.get(DeploymentRow, deployment_id)
    if row is None:
        raise NotFoundError(f"no deployment {deployment_id}")
    return row


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
    environments: Collection[str] | None = None,
) -> Page[dict[str, Any]]:
    """Deployments newest first, as mappings of LIST_COLUMNS (one query, no ORM objects).

    `environments` limits the rows to environments of those names (None: all of them).
    """
    query = _summary_query()
    if environments is not None:
        query = query.where(EnvironmentRow.name.in_(sorted(environments)))
    if service_id is not None:
        query = query.where(DeploymentRow.service_id == service_id)
    if environment_id is not None:
        query = query.where(DeploymentRow.environment_id == environment_id)
    if status:
        query = query.where(DeploymentRow.status == status)
    return paginate(session, query, DeploymentRow.id, limit, cursor, mappings=True)
