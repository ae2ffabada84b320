"""`/api/v1/metrics/dora` and `/api/v1/metrics/operations`: the seed's success metrics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from code_engine.api.deps import Now, RuntimeDep, SessionDep, Viewer, authorize
from code_engine.api.schemas import ERROR_RESPONSES, UtcDatetime
from code_engine.auth.roles import Role
from code_engine.deploy.traffic import RouterTraffic
from code_engine.dora.operations import default_source, measure_operations, operations_to_dict
from code_engine.dora.render import BANDS, report_to_dict
from code_engine.dora.report import service_reports
from code_engine.dora.window import parse_days, resolve_window
from code_engine.errors import UserError

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"], responses=ERROR_RESPONSES)

Window = Annotated[str, Query(description="The last N days before now: 7d, 30d (default) or 90d.")]
From = Annotated[
    UtcDatetime | None,
    Query(alias="from", description="Explicit start (RFC 3339); wins over window."),
]
To = Annotated[UtcDatetime | None, Query(description="Explicit end (RFC 3339); default now.")]


class MetricOut(BaseModel):
    key: str
    title: str
    value: float | None
    unit: str
    band: str | None
    target: str
    passed: bool | None
    sample_size: int
    details: dict[str, float | None]


class TrendPointOut(BaseModel):
    start: datetime
    end: datetime
    deployments: int
    deployments_per_week: float
    deployment_days: int
    lead_time_median_hours: float | None
    lead_time_p90_hours: float | None
    change_failure_rate_percent: float | None
    time_to_restore_median_hours: float | None


class ServiceDoraOut(BaseModel):
    service: str
    environment: str
    metrics: dict[str, MetricOut]
    trend: list[TrendPointOut]


class BandsOut(BaseModel):
    report: str
    year: int
    url: str


class DoraOut(BaseModel):
    environment: str
    bands: BandsOut
    start: datetime
    end: datetime
    services: list[ServiceDoraOut]


def window_of(now: datetime, window: str, start: datetime | None, end: datetime | None) -> Any:
    """`[start, end)` from the query: explicit bounds, else the last `window` days."""
    try:
        days = None if start is not None else parse_days(window)
        return resolve_window(lambda: now, days=days, start=start, end=end)
    except ValueError as exc:
        raise UserError(str(exc)) from None


@router.get("/dora", response_model=DoraOut, summary="DORA four keys per service, with trends")
def dora_metrics(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Viewer,
    now: Now,
    service: str | None = None,
    environment: str = "prod",
    window: Window = "30d",
    from_: From = None,
    to: To = None,
) -> dict[str, Any]:
    authorize(principal, Role.viewer, environment)
    start, end = window_of(now, window, from_, to)
    reports = service_reports(
        session,
        start=start,
        end=end,
        environment=environment,
        service=service,
        incident_link_window=timedelta(hours=runtime.settings.dora_incident_link_hours),
    )
    return {
        "environment": environment,
        "bands": BANDS,
        "start": start,
        "end": end,
        "services": [report_to_dict(report) for report in reports],
    }


class ObjectiveOut(BaseModel):
    key: str
    title: str
    value: float | None
    unit: str
    target: str
    passed: bool | None


class OperationsOut(BaseModel):
    service: str
    environment: str
    source: str
    start: datetime
    end: datetime
    objectives: list[ObjectiveOut]
    note: str


@router.get(
    "/operations",
    response_model=OperationsOut,
    summary="Uptime, p95 latency and error rate against the service's SLOs",
)
def operations_metrics(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Viewer,
    now: Now,
    service: str,
    environment: str = "prod",
    window: Window = "30d",
    from_: From = None,
    to: To = None,
) -> dict[str, Any]:
    authorize(principal, Role.viewer, environment)
    start, end = window_of(now, window, from_, to)
    source = default_source(runtime.settings, RouterTraffic.builtin(runtime.settings.data_dir))
    report = measure_operations(
        session, source, service=service, environment=environment, start=start, end=end
    )
    return operations_to_dict(report)
