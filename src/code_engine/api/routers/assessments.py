"""`/api/v1/services/{name}/assessments`: maturity assessments kept per service, and the trend."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from code_engine.api.deps import GlobalDeveloper, Now, SessionDep, Viewer
from code_engine.api.schemas import ERROR_RESPONSES
from code_engine.assess import history
from code_engine.audit import trail as audit
from code_engine.catalog.store import require_service
from code_engine.store.tables import AssessmentRow

router = APIRouter(prefix="/api/v1/services", tags=["assessments"], responses=ERROR_RESPONSES)


class AssessmentPoint(BaseModel):
    id: int
    created_at: datetime
    level: int
    commit: str | None
    categories: dict[str, int]
    failed: list[str]


class AssessmentTrend(BaseModel):
    service: str
    items: list[AssessmentPoint]


def _point(row: AssessmentRow) -> AssessmentPoint:
    report = row.report
    categories = report.get("categories", [])
    return AssessmentPoint(
        id=row.id,
        created_at=row.created_at,
        level=row.level,
        commit=report.get("commit"),
        categories={c["id"]: c["level"] for c in categories},
        failed=[
            ch["id"] for c in categories for ch in c.get("checks", []) if ch.get("status") == "fail"
        ],
    )


@router.post(
    "/{name}/assessments",
    response_model=AssessmentPoint,
    status_code=201,
    summary="Store an assessment report (`codectl assess --output json`)",
)
def record_assessment(
    name: str,
    session: SessionDep,
    principal: GlobalDeveloper,
    now: Now,
    report: dict[str, Any] = Body(..., description="A report of schema version 1."),
) -> AssessmentPoint:
    service = require_service(session, name)
    row = history.record(session, service.id, report, now)
    audit.record(
        session,
        at=now,
        principal=principal.name,
        action="assessment.record",
        resource=f"service/{name}",
        detail={"level": row.level},
    )
    return _point(row)


@router.get(
    "/{name}/assessments",
    response_model=AssessmentTrend,
    summary="The maturity trend of a service, oldest first",
)
def assessment_trend(
    name: str,
    session: SessionDep,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most recent points.")] = 100,
) -> AssessmentTrend:
    service = require_service(session, name)
    rows = history.trend(session, service.id, limit)
    return AssessmentTrend(service=name, items=[_point(r) for r in rows])
