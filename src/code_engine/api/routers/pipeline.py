"""`/api/v1/pipeline/runs`: the evidence of a service's pipeline runs.

A CI client posts the run report of the pipeline runner (commit, steps, durations, cache hits,
gate results, artifact hashes); a release is qualified when its commit has a passing run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from code_engine.api.deps import (
    Cursor,
    GlobalDeveloper,
    Limit,
    Now,
    RuntimeDep,
    SessionDep,
    Viewer,
    run_read,
)
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public, UtcDatetime
from code_engine.catalog.store import require_service
from code_engine.errors import UserError
from code_engine.pipeline import store
from code_engine.pipeline.evidence import Artifact, GateResult, RunReport, StepResult
from code_engine.pipeline.tables import PipelineRunRow

router = APIRouter(prefix="/api/v1/pipeline", tags=["pipeline"], responses=ERROR_RESPONSES)


class StepIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    stage: str = Field(max_length=100)
    status: Literal["passed", "failed", "skipped"]
    cached: bool = False
    duration_s: float = Field(ge=0, le=7 * 86400)
    reason: str | None = Field(None, max_length=2000)


class GateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    threshold: str = Field(max_length=200)
    measured: str | None = Field(None, max_length=200)
    verdict: Literal["passed", "failed"]
    reason: str | None = Field(None, max_length=2000)


class ArtifactIn(BaseModel):
    path: str = Field(min_length=1, max_length=1000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class RunIn(BaseModel):
    """The run report the pipeline runner prints (`-o json`) and posts (`--report-to`)."""

    service: str = Field(min_length=1, max_length=200)
    commit: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$", description="Full HEAD sha.")
    dirty: bool = Field(description="The work tree had uncommitted changes: never qualifies.")
    started_at: UtcDatetime
    finished_at: UtcDatetime
    status: Literal["passed", "failed"]
    steps: list[StepIn] = Field(default_factory=list, max_length=500)
    gates: list[GateIn] = Field(default_factory=list, max_length=200)
    artifacts: list[ArtifactIn] = Field(default_factory=list, max_length=1000)

    def to_report(self) -> RunReport:
        if self.finished_at < self.started_at:
            raise UserError("finished_at: before started_at")
        return RunReport(
            service=self.service,
            commit=self.commit,
            dirty=self.dirty,
            started_at=self.started_at,
            finished_at=self.finished_at,
            status=self.status,
            steps=tuple(StepResult(**s.model_dump()) for s in self.steps),
            gates=tuple(GateResult(**g.model_dump()) for g in self.gates),
            artifacts=tuple(Artifact(**a.model_dump()) for a in self.artifacts),
        )


class RunPublic(Public):
    id: int
    service: str
    commit: str
    dirty: bool
    status: str
    qualifies: bool = Field(description="Passed on a clean tree: qualifies its commit.")
    started_at: datetime
    finished_at: datetime
    duration_s: float
    recorded_at: datetime
    recorded_by: str
    steps: list[dict[str, Any]]
    gates: list[dict[str, Any]]
    artifacts: list[dict[str, Any]]


class RunRecorded(RunPublic):
    releases: list[str] = Field(
        description="Releases of the service at this commit, qualified by this run if it qualifies."
    )


def _public(row: PipelineRunRow, service: str) -> dict[str, Any]:
    recorded = store.to_recorded(row, service)
    fields = {c: getattr(row, c) for c in PipelineRunRow.__table__.columns.keys()}  # noqa: SIM118
    fields.pop("service_id")
    return {
        **fields,
        "service": service,
        "qualifies": recorded.report.passed and not row.dirty,
    }


@router.post("/runs", response_model=RunRecorded, status_code=201, summary="Record a run")
def record_run(
    body: RunIn, session: SessionDep, principal: GlobalDeveloper, now: Now
) -> RunRecorded:
    row = store.record_run(session, body.to_report(), principal.name, now)
    releases = store.releases_at(session, row.service_id, row.commit)
    return RunRecorded(**_public(row, body.service), releases=releases)


@router.get("/runs", response_model=PageOut[RunPublic], summary="List runs, newest first")
async def list_runs(
    session: SessionDep,
    runtime: RuntimeDep,
    _: Viewer,
    service: str | None = None,
    commit: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[RunPublic]:
    if commit is not None and not (
        7 <= len(commit) <= 64 and all(c in "0123456789abcdefABCDEF" for c in commit)
    ):
        raise UserError("commit: a sha or a prefix of 7 to 64 hexadecimal digits")

    def work() -> PageOut[RunPublic]:
        service_id = require_service(session, service).id if service else None
        page = store.list_runs(session, limit, cursor, service_id, commit and commit.lower())
        names = store.service_names(session, {row.service_id for row in page.items})
        items = [RunPublic(**_public(row, names[row.service_id])) for row in page.items]
        return PageOut(items=items, next_cursor=page.next_cursor)

    return await run_read(runtime, work)
