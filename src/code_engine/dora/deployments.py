"""The deployment store: every query of the deployments table and the commits they delivered.

Writes go through `dora.recording` (the one writer); this module reads. `deploy` uses it
for CODE's own deployments, `dora` for the four keys.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, get_args

from sqlalchemy import Dialect, Select, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from code_engine.errors import NotFoundError
from code_engine.store.pagination import (
    MAX_LIMIT,
    Page,
    decode_cursor,
    digest_of,
    encode_cursor,
    paginate,
)
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


_TIMES = frozenset({"created_at", "started_at", "finished_at"})
_NAMES = tuple(column.key for column in LIST_COLUMNS)
_FILTERS = {
    "service_id": DeploymentRow.service_id,
    "environment_id": DeploymentRow.environment_id,
    "status": DeploymentRow.status,
}
_compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}


def rfc3339(value: object) -> str | None:
    """A stored timestamp as the API renders it (`2026-11-02T12:00:00Z`, microseconds when
    there are any): SQLite's stored UTC text is rearranged, never parsed."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            fraction = "" if value.endswith("000000") else value[19:]
            return f"{value[:10]}T{value[11:19]}{fraction}Z"
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _statement(dialect: Dialect, filters: tuple[str, ...]) -> tuple[str, tuple[str, ...] | None]:
    """The list query for these filters, compiled once per dialect."""
    key = (dialect.name, filters)
    if key not in _compiled:
        query = _summary_query()
        for name in filters:
            column = DeploymentRow.id if name == "before" else _FILTERS[name]
            bound: BindParameter[Any] = bindparam(name)
            query = query.where(column < bound if name == "before" else column == bound)
        query = query.order_by(DeploymentRow.id.desc())
        query = query.limit(bindparam("limit")).offset(bindparam("offset"))
        compiled = query.compile(dialect=dialect)
        positions = compiled.positiontup
        _compiled[key] = (compiled.string, tuple(positions) if positions is not None else None)
    return _compiled[key]


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
    """Deployments newest first, as dicts of LIST_COLUMNS with RFC 3339 timestamps;
    `environments` limits them to environments of those names (None: all of them).

    The page is the hottest read of the API: the statement is compiled once and run on the
    driver's cursor, and rows become dicts without SQLAlchemy's per-row processing (the
    columns are numbers and text; timestamps are rendered by `rfc3339`).
    """
    limit = max(1, min(limit, MAX_LIMIT))
    if environments is not None:  # a caller scoped to some environments: the ORM's IN list
        return _list_within(
            session, limit, cursor, service_id, environment_id, status, environments
        )
    digest = digest_of("deployments", service_id, environment_id, status or None)
    values: dict[str, Any] = {
        "service_id": service_id,
        "environment_id": environment_id,
        "status": status or None,
        "before": decode_cursor(cursor, digest) if cursor else None,
    }
    filters = tuple(name for name, value in values.items() if value is not None)
    values |= {"limit": limit + 1, "offset": 0}
    connection = session.connection()
    sql, positions = _statement(connection.dialect, filters)
    parameters: Any = values if positions is None else tuple(values[n] for n in positions)
    cursor_ = connection.connection.cursor()
    try:
        cursor_.execute(sql, parameters)
        fetched = cursor_.fetchall()
    finally:
        cursor_.close()
    rows = [dict(zip(_NAMES, row, strict=True)) for row in fetched[:limit]]
    for row in rows:
        for name in _TIMES:
            row[name] = rfc3339(row[name])
    more = len(fetched) > limit
    return Page(items=rows, next_cursor=encode_cursor(rows[-1]["id"], digest) if more else None)


def _list_within(
    session: Session,
    limit: int,
    cursor: str | None,
    service_id: int | None,
    environment_id: int | None,
    status: str | None,
    environments: Collection[str],
) -> Page[dict[str, Any]]:
    query = _summary_query().where(EnvironmentRow.name.in_(sorted(environments)))
    if service_id is not None:
        query = query.where(DeploymentRow.service_id == service_id)
    if environment_id is not None:
        query = query.where(DeploymentRow.environment_id == environment_id)
    if status:
        query = query.where(DeploymentRow.status == status)
    page = paginate(session, query, DeploymentRow.id, limit, cursor, mappings=True)
    for row in page.items:
        for name in _TIMES:
            row[name] = rfc3339(row[name])
    return page
