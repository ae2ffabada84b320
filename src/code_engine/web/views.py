"""What the dashboard shows, gathered from the store (service functions returning data)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.assess import history
from code_engine.catalog.store import list_environments
from code_engine.deploy.rollout.codec import RolloutProgress, progress_from_dict
from code_engine.dora import runs
from code_engine.dora.metrics import Metric
from code_engine.dora.operations import (
    Objective,
    OperationsReport,
    OperationsSource,
    measure_many,
)
from code_engine.dora.render import TITLES
from code_engine.dora.report import ServiceReport, service_reports
from code_engine.settings import Settings
from code_engine.store.tables import DeploymentRow, IncidentRow, ServiceRow
from code_engine.web.sparkline import Sparkline, sparkline

TREND_FIELD = {
    "deployment_frequency": "deployments_per_week",
    "lead_time": "lead_time_median_hours",
    "change_failure_rate": "change_failure_rate_percent",
    "time_to_restore": "time_to_restore_median_hours",
}


@dataclass(frozen=True)
class KeyCard:
    key: str
    title: str
    value: str
    unit: str
    band: str | None
    target: str
    passed: bool | None
    sample_size: int
    spark: Sparkline


@dataclass(frozen=True)
class ObjectiveCard:
    """An operational figure against its SLO; `state` is met, missed or none (no data)."""

    key: str
    title: str
    value: str
    unit: str
    target: str
    state: str


@dataclass(frozen=True)
class OperationsPanel:
    source: str
    source_label: str
    scope: str
    objectives: Sequence[ObjectiveCard]
    note: str


SOURCES = {
    "prometheus": ("Prometheus", "over the window"),
    "router": ("router statistics", "since the router's counters were last reset"),
}


@dataclass(frozen=True)
class Rollout:
    environment: str
    version: str
    status: str
    strategy: str
    when: datetime | None
    weight: int | None
    step: str
    phase: str
    percent: int


@dataclass(frozen=True)
class IncidentLine:
    title: str
    severity: str
    opened_at: datetime
    resolved_at: datetime | None
    duration: str
    source: str


@dataclass(frozen=True)
class ServicePanel:
    name: str
    keys: Sequence[KeyCard]
    rollouts: Sequence[Rollout]
    incidents: Sequence[IncidentLine]
    maturity: int | None
    assessed_at: datetime | None
    repo: str = ""
    operations: OperationsPanel | None = None


def format_value(value: float | None) -> str:
    """Two decimals below 10, one below 100, none above; a dash for no data."""
    if value is None:
        return "–"
    if abs(value) < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"


def format_objective(key: str, value: float | None) -> str:
    """Like `format_value`, but uptime never rounds up to a met SLO and small error rates
    keep their digits (0.05 % against < 0.1 %)."""
    if value is None:
        return "–"
    if key == "uptime":
        return f"{math.floor(value * 100) / 100:.2f}"
    if key == "error_rate" and 0 < value < 0.1:
        return "< 0.001" if value < 0.001 else f"{value:.2g}"
    return format_value(value)


def objective_card(objective: Objective) -> ObjectiveCard:
    state = {True: "met", False: "missed", None: "none"}[objective.passed]
    return ObjectiveCard(
        key=objective.key,
        title=objective.title,
        value=format_objective(objective.key, objective.value),
        unit=objective.unit,
        target=objective.target.replace(">=", "≥"),
        state=state,
    )


def operations_panel(report: OperationsReport) -> OperationsPanel:
    label, scope = SOURCES.get(report.source, (report.source, ""))
    return OperationsPanel(
        source=report.source,
        source_label=label,
        scope=scope,
        objectives=[objective_card(o) for o in report.objectives],
        note=report.note,
    )


def with_operations(
    panels: Sequence[ServicePanel],
    source: OperationsSource,
    *,
    environment: str,
    start: datetime,
    end: datetime,
) -> list[ServicePanel]:
    """The panels with each service's uptime, p95 latency and error rate against its SLOs."""
    reports = measure_many(
        [(panel.name, panel.repo) for panel in panels],
        source,
        environment=environment,
        start=start,
        end=end,
    )
    return [
        replace(panel, operations=operations_panel(report))
        for panel, report in zip(panels, reports, strict=True)
    ]


def key_cards(report: ServiceReport) -> list[KeyCard]:
    cards = []
    for metric in report.keys.metrics:
        series = [getattr(point, TREND_FIELD[metric.key]) for point in report.trend]
        cards.append(_card(metric, series))
    return cards


def _card(metric: Metric, series: list[float | None]) -> KeyCard:
    return KeyCard(
        key=metric.key,
        title=TITLES[metric.key],
        value=format_value(metric.value),
        unit=metric.unit,
        band=None if metric.band is None else metric.band.value,
        target=str(metric.target),
        passed=metric.passed,
        sample_size=metric.sample_size,
        spark=sparkline(series),
    )


# A deployment that ran to its end, and every final status (a rejected one never ran).
RAN_TO_THE_END = frozenset({"succeeded", "failed", "rolled_back"})
ENDED = RAN_TO_THE_END | {"rejected"}


def rollout_of(environment: str, row: DeploymentRow) -> Rollout:
    """A deployment's progress: the canary's traffic weight and step, else its status.

    The rollout state is read by the rollout's codec; a deployment recorded without
    running has none.
    """
    run = _progress(row.state)
    finished = row.status in ENDED
    if row.status in RAN_TO_THE_END:
        percent = 100
    elif finished or run is None:
        percent = 0  # rejected before it ran, or not started yet
    else:
        percent = max(0, min(100, run.weight))
    step = ""
    if run is not None and run.steps:
        step = f"step {min(run.step_index + 1, run.steps)} of {run.steps}"
    return Rollout(
        environment=environment,
        version=row.version,
        status=row.status,
        strategy=row.strategy,
        when=row.finished_at or row.started_at or row.created_at,
        weight=None if run is None else run.weight,
        step=step,
        phase=run.phase.value if run is not None and not finished else "",
        percent=percent,
    )


def _progress(state: object) -> RolloutProgress | None:
    if not isinstance(state, dict):
        return None
    try:
        return progress_from_dict(state)
    except (KeyError, TypeError, ValueError):  # ConfigError is a ValueError
        return None


def rollouts(session: Session, service_id: int) -> list[Rollout]:
    """The latest deployment of each environment, in promotion order."""
    result = []
    for environment in list_environments(session, service_id):
        row = runs.latest_in_environment(session, environment.id)
        if row is not None:
            result.append(rollout_of(environment.name, row))
    return result


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 48 else f"{hours // 24} days"


def recent_incidents(
    session: Session, service_id: int, now: datetime, limit: int = 5
) -> list[IncidentLine]:
    rows = session.scalars(
        select(IncidentRow)
        .where(IncidentRow.service_id == service_id)
        .order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
        .limit(limit)
    )
    return [
        IncidentLine(
            title=row.title or row.external_id or f"incident {row.id}",
            severity=row.severity,
            opened_at=row.opened_at,
            resolved_at=row.resolved_at,
            duration=_duration((row.resolved_at or now) - row.opened_at),
            source=row.source,
        )
        for row in rows
    ]


def dashboard(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    environment: str,
    incident_link_window: timedelta,
) -> list[ServicePanel]:
    """One panel per service having `environment`, by name."""
    reports = service_reports(
        session,
        start=start,
        end=end,
        environment=environment,
        incident_link_window=incident_link_window,
    )
    rows = session.execute(select(ServiceRow.name, ServiceRow.id, ServiceRow.repo)).tuples()
    ids = {name: (service_id, repo) for name, service_id, repo in rows}
    panels = []
    for report in reports:
        service_id, repo = ids[report.keys.service]
        assessment = history.latest(session, service_id)
        panels.append(
            ServicePanel(
                name=report.keys.service,
                keys=key_cards(report),
                rollouts=rollouts(session, service_id),
                incidents=recent_incidents(session, service_id, end),
                maturity=None if assessment is None else assessment.level,
                assessed_at=None if assessment is None else assessment.created_at,
                repo=repo,
            )
        )
    return panels


def recovery_evidence(session: Session, settings: Settings, now: datetime) -> dict[str, Any] | None:
    """Last backups, last drill and RPO/RTO for the operations view; None without DR config."""
    from code_engine.dr import load_config
    from code_engine.dr.evidence import gather
    from code_engine.errors import CodeError

    try:
        config = load_config(settings)
    except CodeError:
        return None
    return gather(session, config.objectives, [s.name for s in config.sources], now).as_dict()
