"""Load the timelines of one or all services from the database, columns only.

Three queries answer any number of services: deployments, the commits successful
deployments delivered (each with its change start, stored alongside), and incidents.
Timestamps come back as POSIX seconds (`epoch`), statuses as short strings: no ORM object is built.

History is bounded per environment: a window `[start, end)` needs deployments from the
last successful one before `start` (where a failure streak that runs into the window
began), up to `end` plus the incident link window (the next deployment bounds an
incident's link). A commit that a successful deployment before that bound delivered is
flagged by the database, so it is not counted again (see `docs/metrics.md`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import CTE, Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from code_engine.dora.events import DeploymentStatus
from code_engine.dora.sqltime import epoch
from code_engine.dora.tables import IncidentReferenceRow
from code_engine.dora.timeline import (
    DEFAULT_INCIDENT_LINK_WINDOW,
    Delivery,
    DeployColumns,
    IncidentColumns,
    Timeline,
    build,
)
from code_engine.store.base import UTCDateTime
from code_engine.store.tables import (
    DeploymentChangeRow,
    DeploymentRow,
    EnvironmentRow,
    IncidentRow,
    ServiceRow,
)

DEFAULT_ENVIRONMENT = "prod"
SUCCEEDED = DeploymentStatus.SUCCEEDED.value
STATUSES = {status.value: status for status in DeploymentStatus}
_BEGINNING = datetime(1, 1, 1, tzinfo=timezone.utc)


@dataclass
class _Scope:
    service: str
    environment: str
    deployments: list[tuple[float, float, str, int, DeploymentStatus]]
    deliveries: list[Delivery]
    delivered_before: set[Hashable]
    incidents: list[IncidentColumns]


def _rows(session: Session, query: Select[Any]) -> Sequence[Any]:
    """The driver's own tuples: these columns (ints, floats, text) need no conversion,
    and skipping SQLAlchemy's row objects halves the cost of a million-row read."""
    result = session.connection().execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _bounds(environment: str, start: datetime, service: str | None) -> CTE:
    """Per environment of the scope: its service and the history's lower bound `lo`."""
    d = aliased(DeploymentRow)
    last_success = (
        select(func.max(d.finished_at))
        .where(
            d.service_id == EnvironmentRow.service_id,
            d.environment_id == EnvironmentRow.id,
            d.status == SUCCEEDED,
            d.finished_at < start,
        )
        .scalar_subquery()
    )
    query = (
        select(
            EnvironmentRow.id.label("env_id"),
            EnvironmentRow.service_id.label("service_id"),
            ServiceRow.name.label("service"),
            last_success.label("lo"),
        )
        .join(ServiceRow, ServiceRow.id == EnvironmentRow.service_id)
        .where(EnvironmentRow.name == environment)
    )
    if service is not None:
        query = query.where(ServiceRow.name == service)
    # Materialized: `lo` is read several times per row, and must be computed once per
    # environment, not once per reference (SQLite would inline the correlated subquery).
    return query.cte("bounds").prefix_with("MATERIALIZED")


def _in_history(bounds: CTE, d: Any, end: datetime) -> Any:
    low = func.coalesce(bounds.c.lo, literal(_BEGINNING, UTCDateTime()))
    return and_(
        d.service_id == bounds.c.service_id,
        d.environment_id == bounds.c.env_id,
        d.finished_at >= low,
        d.finished_at < end,
    )


def _load_deployments(
    session: Session, bounds: CTE, end: datetime, scopes: dict[int, _Scope]
) -> dict[int, tuple[float, _Scope]]:
    """Fill each scope's deployments; returns deployment id → (finish, scope)."""
    d = DeploymentRow
    query = select(
        bounds.c.env_id,
        d.id,
        d.external_id,
        d.status,
        epoch(func.coalesce(d.started_at, d.finished_at)),
        epoch(d.finished_at),
    ).join(d, _in_history(bounds, d, end))
    query = query.where(d.status.in_(STATUSES))
    index: dict[int, tuple[float, _Scope]] = {}
    for env_id, ident, external_id, status, started, finished in _rows(session, query):
        scope = scopes[env_id]
        scope.deployments.append((finished, started, external_id or "", ident, STATUSES[status]))
        index[ident] = (finished, scope)
    return index


def _load_deliveries(
    session: Session, bounds: CTE, end: datetime, deployments: dict[int, tuple[float, _Scope]]
) -> None:
    d, dc = DeploymentRow, DeploymentChangeRow
    d2, dc2 = aliased(DeploymentRow), aliased(DeploymentChangeRow)
    delivered_earlier = exists().where(
        dc2.sha == dc.sha,
        d2.id == dc2.deployment_id,
        d2.service_id == d.service_id,
        d2.environment_id == d.environment_id,
        d2.status == SUCCEEDED,
        d2.finished_at < bounds.c.lo,
    )
    # Only a commit whose change started before the bound can have been delivered before
    # it (barring clock skew): the lookup runs for a handful of rows, not for every commit.
    started = dc.change_started_at
    maybe_earlier = or_(started.is_(None), started < bounds.c.lo)
    query = (
        select(
            d.id,
            dc.sha,
            epoch(started),
            case((maybe_earlier, delivered_earlier), else_=False),
        )
        .select_from(bounds)
        .join(d, _in_history(bounds, d, end))
        .join(dc, dc.deployment_id == d.id)
        .where(d.status == SUCCEEDED)
    )
    # The deployment's finish and scope come from the deployments already read, and the
    # change start is stored with the delivery: one table range, no lookup per commit.
    for deployment_id, sha, change_start, earlier in _rows(session, query):
        finished, scope = deployments[deployment_id]
        scope.deliveries.append((finished, sha, change_start))
        if earlier:
            scope.delivered_before.add(sha)


def _load_incidents(
    session: Session,
    bounds: CTE,
    start: datetime,
    end: datetime,
    environment: str,
    scopes: dict[int, _Scope],
) -> None:
    i, named, ref = IncidentRow, aliased(DeploymentRow), IncidentReferenceRow
    # An incident without an environment is in the one of the deployment it names, else
    # in the default environment.
    unplaced = and_(i.environment_id.is_(None), named.environment_id == bounds.c.env_id)
    if environment == DEFAULT_ENVIRONMENT:
        unplaced = or_(unplaced, and_(i.environment_id.is_(None), named.id.is_(None)))
    query = (
        select(
            bounds.c.env_id,
            epoch(i.opened_at),
            epoch(i.resolved_at),
            i.deployment_id,
            ref.deployment_external_id,
        )
        .join(i, i.service_id == bounds.c.service_id)
        .outerjoin(named, named.id == i.deployment_id)
        .outerjoin(ref, ref.incident_id == i.id)
        .where(
            or_(i.environment_id == bounds.c.env_id, unplaced),
            # what can matter: a recovery in the window, a link by time to one of its
            # deployments, or a link by name to any deployment
            or_(
                and_(i.opened_at < end, or_(i.opened_at >= start, i.resolved_at >= start)),
                i.deployment_id.is_not(None),
                ref.incident_id.is_not(None),
            ),
        )
    )
    for env_id, opened, resolved, deployment_id, reference in _rows(session, query):
        target: Hashable | None = deployment_id
        if target is None and reference:
            target = f"unknown:{reference}"  # names a deployment not received yet
        scopes[env_id].incidents.append((opened, resolved, target))


def load_timelines(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    environment: str = DEFAULT_ENVIRONMENT,
    service: str | None = None,
    incident_link_window: timedelta = DEFAULT_INCIDENT_LINK_WINDOW,
) -> list[Timeline]:
    """Timelines of every service having `environment` (or just `service`), by name.

    They answer any window inside `[start, end)` (the headline figures and the trend).
    """
    bounds = _bounds(environment, start, service)
    scopes = {
        row.env_id: _Scope(row.service, environment, [], [], set(), [])
        for row in session.execute(select(bounds.c.env_id, bounds.c.service))
    }
    if not scopes:
        return []
    horizon = end + incident_link_window
    deployments = _load_deployments(session, bounds, horizon, scopes)
    _load_deliveries(session, bounds, horizon, deployments)
    _load_incidents(session, bounds, start, horizon, environment, scopes)
    timelines = [
        _timeline(scope, incident_link_window)
        for scope in sorted(scopes.values(), key=lambda s: s.service)
    ]
    return timelines


def _timeline(scope: _Scope, link_window: timedelta) -> Timeline:
    # The event path's order: finish, start, external id; the row id separates CODE's
    # own deployments, which have no external id.
    scope.deployments.sort()
    columns = DeployColumns(
        finished=[row[0] for row in scope.deployments],
        status=[row[4] for row in scope.deployments],
        ids=[row[3] for row in scope.deployments],
    )
    return build(
        columns,
        scope.incidents,
        scope.deliveries,
        service=scope.service,
        environment=scope.environment,
        incident_link_window=link_window,
        delivered_before=scope.delivered_before,
    )
