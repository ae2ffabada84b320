"""Load the timelines of one or all services from the database, columns only.

First the environments in scope and, per environment, the lower bound of the history a
window needs; then, per environment, two statements on its own index ranges:
deployments (each successful one with the lead times of the commits it delivered first,
stored on its row by `dora.deliveries`) and incidents. Timestamps come back as POSIX
seconds (`epoch`), statuses as short strings, lead times as packed doubles: no ORM object
is built and no row passes through a Python loop of its own (comprehensions only), which
is what a quarter of a million deployments cost.

History is bounded per environment: a window `[start, end)` needs deployments from the
last successful one before `start` (where a failure streak that runs into the window
began), up to `end` plus the incident link window (the next deployment bounds an
incident's link). Which deployment delivered a commit first is decided over the whole
history when the deployments are stored, so the bound never counts a commit twice.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import chain, repeat
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from code_engine.clock import as_utc
from code_engine.dora.deliveries import unpack_seconds
from code_engine.dora.events import DeploymentStatus
from code_engine.dora.tables import IncidentReferenceRow
from code_engine.dora.timeline import (
    DEFAULT_INCIDENT_LINK_WINDOW,
    DeployColumns,
    IncidentColumns,
    LeadColumns,
    Timeline,
    build,
)
from code_engine.store.base import UTCDateTime
from code_engine.store.rawread import RawRead, results
from code_engine.store.sqltime import epoch
from code_engine.store.tables import (
    DeploymentRow,
    EnvironmentRow,
    IncidentRow,
    ServiceRow,
)

DEFAULT_ENVIRONMENT = "prod"
SUCCEEDED = DeploymentStatus.SUCCEEDED.value
STATUSES = {status.value: status for status in DeploymentStatus}
_BEGINNING = datetime(1, 1, 1, tzinfo=timezone.utc)
# Written into the statement: an IN list of bound values would need expanding per run.
_FINAL: list[ColumnElement[str]] = [literal_column(f"'{status}'") for status in STATUSES]


@dataclass(frozen=True)
class _Scope:
    """One environment of one service, and where its history starts."""

    env_id: int
    service_id: int
    service: str
    low: datetime


def _scopes(
    session: Session,
    environment: str,
    start: datetime,
    service: str | None,
    link_window: timedelta = DEFAULT_INCIDENT_LINK_WINDOW,
) -> list[_Scope]:
    """The environments named `environment` (of `service`), with their history's bound.

    The bound is the last success before `start` (where a failure streak that runs into
    the window began), moved back to every deployment an incident recovered in the window
    can be linked to: by time (within the link window before it opened) or by name.
    """
    d, i = aliased(DeploymentRow), aliased(IncidentRow)
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
    recovering = and_(i.service_id == EnvironmentRow.service_id, i.resolved_at >= start)
    first_opened = (
        select(func.min(i.opened_at))
        .where(
            recovering,
            i.opened_at < start,
            or_(i.environment_id == EnvironmentRow.id, i.environment_id.is_(None)),
        )
        .scalar_subquery()
    )
    first_named = (
        select(func.min(d.finished_at))
        .join(i, i.deployment_id == d.id)
        .where(recovering, d.environment_id == EnvironmentRow.id, d.finished_at < start)
        .scalar_subquery()
    )
    query = (
        select(
            EnvironmentRow.id,
            EnvironmentRow.service_id,
            ServiceRow.name,
            last_success,
            first_opened,
            first_named,
        )
        .join(ServiceRow, ServiceRow.id == EnvironmentRow.service_id)
        .where(EnvironmentRow.name == environment)
        .order_by(ServiceRow.name)
    )
    if service is not None:
        query = query.where(ServiceRow.name == service)
    return [
        _Scope(env_id, service_id, name, _bound(success, opened, named, link_window))
        for env_id, service_id, name, success, opened, named in session.execute(query)
    ]


def _bound(
    success: datetime | None,
    opened: datetime | None,
    named: datetime | None,
    link_window: timedelta,
) -> datetime:
    """The earliest deployment a window may need (see `_scopes`)."""
    candidates = [success, named, None if opened is None else opened - link_window]
    present = [as_utc(c) for c in candidates if c is not None]
    return min(present) if present else _BEGINNING


_SERVICE: BindParameter[int] = bindparam("service_id")
_ENV: BindParameter[int] = bindparam("env_id")
_LOW = bindparam("low", type_=UTCDateTime())
_END = bindparam("end", type_=UTCDateTime())
_START = bindparam("start", type_=UTCDateTime())


def _in_history(d: Any) -> Any:
    return and_(
        d.service_id == _SERVICE,
        d.environment_id == _ENV,
        d.finished_at >= _LOW,
        d.finished_at < _END,
    )


def _deployments_query(dialect: str, *, tie_breaks: bool) -> Select[Any]:
    """Finish, id, status and stored lead times, in the event path's order: finish, start,
    external id; the row id separates CODE's own deployments, which have no external id.

    Without `tie_breaks` the order is finish then id only: right whenever no two
    deployments finished at the same microsecond, and the index answers it alone.
    """
    d = DeploymentRow
    order: list[Any] = [d.finished_at]
    if tie_breaks:
        external: Any = func.coalesce(d.external_id, "")
        if dialect == "postgresql":
            external = external.collate("C")  # Python's order: by code point
        order += [func.coalesce(d.started_at, d.finished_at), external]
    return (
        select(epoch(d.finished_at), d.id, d.status, d.lead_times, d.lead_unknown)
        .where(_in_history(d), d.status.in_(_FINAL))
        .order_by(*order, d.id)
    )


def _incidents_query(environment: str) -> Select[Any]:
    i, named, ref = IncidentRow, aliased(DeploymentRow), IncidentReferenceRow
    # An incident without an environment is in the one of the deployment it names, else
    # in the default environment.
    unplaced = and_(i.environment_id.is_(None), named.environment_id == _ENV)
    if environment == DEFAULT_ENVIRONMENT:
        unplaced = or_(unplaced, and_(i.environment_id.is_(None), named.id.is_(None)))
    return (
        select(
            epoch(i.opened_at),
            epoch(i.resolved_at),
            i.deployment_id,
            ref.deployment_external_id,
        )
        .select_from(i)
        .outerjoin(named, named.id == i.deployment_id)
        .outerjoin(ref, ref.incident_id == i.id)
        .where(
            i.service_id == _SERVICE,
            or_(i.environment_id == _ENV, unplaced),
            # what can matter: a recovery in the window, a link by time to one of the
            # loaded deployments (with every other incident of that deployment, which
            # decides when it recovered), or a link by name to any deployment
            or_(
                and_(i.opened_at < _END, or_(i.opened_at >= _LOW, i.resolved_at >= _START)),
                i.deployment_id.is_not(None),
                ref.incident_id.is_not(None),
            ),
        )
    )


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a million rows are read.

    The rows are tuples the collector tracks: it would scan the growing heap again and
    again (a third of the time), for tuples that can never form a cycle. Reference
    counting still frees everything; collection resumes afterwards if it was on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    connection = session.connection()
    dialect = connection.dialect.name
    deployments = RawRead(connection, _deployments_query(dialect, tie_breaks=False))
    tied = RawRead(connection, _deployments_query(dialect, tie_breaks=True))
    incidents = RawRead(connection, _incidents_query(environment))
    horizon = end + incident_link_window
    scopes = _scopes(session, environment, start, service, incident_link_window)
    params = [
        {
            "service_id": scope.service_id,
            "env_id": scope.env_id,
            "low": scope.low,
            "start": start,
            "end": horizon,
        }
        for scope in scopes
    ]
    jobs = [(read, p) for p in params for read in (deployments, incidents)]
    timelines = []
    with paused_gc(), closing(results(connection, jobs)) as rows:
        for scope, values in zip(scopes, params, strict=True):
            deployed, incidents_of = next(rows), next(rows)
            if _has_ties(deployed):
                deployed = tied.rows(values)
            timelines.append(
                _timeline(scope, environment, deployed, incidents_of, incident_link_window)
            )
    return timelines


DeploymentColumns = tuple[float, int, str, bytes | None, int]
"""A deployment as read: finish, id, status, stored lead times and unknown-start count."""


def _has_ties(rows: Sequence[DeploymentColumns]) -> bool:
    """Whether two deployments finished at the same time (their order needs more keys)."""
    return len({row[0] for row in rows}) != len(rows)


def _leads(
    finishes: Sequence[float], packed: Sequence[bytes | None], unknown: Sequence[int]
) -> LeadColumns:
    """Every deployment's stored lead times, aligned with its finish, in finish order."""
    counts = [len(p) >> 3 if p else 0 for p in packed]
    return LeadColumns(
        lead_ts=list(chain.from_iterable(map(repeat, finishes, counts))),
        lead_seconds=unpack_seconds(b"".join(filter(None, packed))),
        unmatched_ts=list(chain.from_iterable(map(repeat, finishes, unknown))),
    )


def _timeline(
    scope: _Scope,
    environment: str,
    deployments: Sequence[DeploymentColumns],
    incidents: Sequence[tuple[float, float | None, int | None, str | None]],
    link_window: timedelta,
) -> Timeline:
    finishes, deployment_ids, statuses, packed, unknown = (
        zip(*deployments, strict=True) if deployments else ((),) * 5
    )
    columns = DeployColumns(
        finished=list(finishes),
        status=list(map(STATUSES.__getitem__, statuses)),
        ids=list(deployment_ids),
    )
    incident_columns: list[IncidentColumns] = [
        # an incident naming a deployment not received yet keeps that name
        (opened, resolved, named if named is not None or not ref else f"unknown:{ref}")
        for opened, resolved, named, ref in incidents
    ]
    return build(
        columns,
        incident_columns,
        _leads(finishes, packed, unknown),
        service=scope.service,
        environment=environment,
        incident_link_window=link_window,
    )
