"""Service functions: the four keys and weekly trend of services, read from the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from code_engine.catalog.store import require_environment, require_service
from code_engine.dora.bands import SEED_TARGETS, Targets
from code_engine.dora.metrics import FourKeys, summarize
from code_engine.dora.query import DEFAULT_ENVIRONMENT, load_timelines
from code_engine.dora.timeline import DEFAULT_INCIDENT_LINK_WINDOW
from code_engine.dora.trend import TrendPoint, trend_of


@dataclass(frozen=True)
class ServiceReport:
    """The four keys of one service over the window, and their weekly trend."""

    keys: FourKeys
    trend: Sequence[TrendPoint]


def service_reports(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    environment: str = DEFAULT_ENVIRONMENT,
    service: str | None = None,
    incident_link_window: timedelta = DEFAULT_INCIDENT_LINK_WINDOW,
    targets: Targets = SEED_TARGETS,
    trend: bool = True,
) -> list[ServiceReport]:
    """Every service that has `environment` (or just `service`), by name.

    Naming a service that does not exist, or lacks the environment, is a NotFoundError.
    """
    if service is not None:
        require_environment(session, require_service(session, service).id, environment)
    timelines = load_timelines(
        session,
        start=start,
        end=end,
        environment=environment,
        service=service,
        incident_link_window=incident_link_window,
    )
    return [
        ServiceReport(
            keys=summarize(timeline, start=start, end=end, targets=targets),
            trend=trend_of(timeline, start=start, end=end) if trend else (),
        )
        for timeline in timelines
    ]
