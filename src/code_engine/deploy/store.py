"""Queries for releases; deployments are DORA's records, re-exported from their one store.

A deployment CODE runs is a DORA deployment like any other: it is written by
`dora.recording.record_deployment` and read through `dora.deployments`, so this module
only names them for the deploy capability's callers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.dora.deployments import (
    FINAL_STATUSES,
    LIST_COLUMNS,
    STATUSES,
    DeploymentRecord,
    Status,
    commits_of,
    deployment_summary,
    get_deployment,
    list_deployments,
)
from code_engine.dora.recording import record_deployment, record_status
from code_engine.errors import ConflictError, NotFoundError
from code_engine.store.pagination import Page, paginate
from code_engine.store.tables import ReleaseRow

__all__ = [
    "FINAL_STATUSES",
    "LIST_COLUMNS",
    "STATUSES",
    "DeploymentRecord",
    "Status",
    "commits_of",
    "create_release",
    "deployment_summary",
    "find_release",
    "get_deployment",
    "list_deployments",
    "list_releases",
    "record_deployment",
    "record_status",
    "require_release",
]


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
