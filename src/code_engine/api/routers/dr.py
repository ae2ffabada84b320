"""`/api/v1/backups` and `/api/v1/dr/...`: recorded backups and drills; run them; restore."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from code_engine.api.deps import Admin, Cursor, Limit, RuntimeDep, SessionDep, Viewer, run_read
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public
from code_engine.auth.tokens import Principal
from code_engine.dr import DrContext, load_config, records, service
from code_engine.dr.drill import drill
from code_engine.dr.evidence import gather
from code_engine.runtime import Runtime

router = APIRouter(tags=["dr"], responses=ERROR_RESPONSES)


class BackupPublic(Public):
    id: int
    snapshot_id: str
    source: str
    kind: str
    store: str
    replica: str | None
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime
    taken_at: datetime | None
    duration_seconds: float
    raw_bytes: int
    stored_bytes: int
    verified_at: datetime | None
    error: str


class DrillPublic(Public):
    id: int
    started_at: datetime
    finished_at: datetime
    status: str
    trigger: str
    rto_seconds: float | None
    rpo_seconds: float | None
    rto_objective_seconds: float
    rpo_objective_seconds: float
    sources: dict[str, Any]
    error: str


class BackupRequest(BaseModel):
    source: str | None = Field(None, description="One source; all when absent.")


class RestoreRequest(BaseModel):
    id: str | None = Field(None, description="The snapshot id.")
    date: dt.date | None = Field(None, description="The newest snapshot of this UTC day.")
    to_time: datetime | None = Field(None, description="The newest snapshot at or before.")
    source: str | None = None
    target: str | None = Field(None, description="A new path or database name.")
    force: bool = Field(False, description="In place, after a safety snapshot.")


def _context(runtime: Runtime, principal: Principal) -> DrContext:
    config = load_config(runtime.settings)
    return DrContext(config, db=runtime.db, clock=runtime.clock, principal=principal.name)


@router.get("/api/v1/backups", response_model=PageOut[BackupPublic], summary="List backups")
async def list_backups(
    session: SessionDep,
    runtime: RuntimeDep,
    _: Viewer,
    source: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[BackupPublic]:
    def work() -> PageOut[BackupPublic]:
        page = records.list_backups(session, limit, cursor, source)
        items = [BackupPublic.model_validate(r) for r in page.items]
        return PageOut(items=items, next_cursor=page.next_cursor)

    return await run_read(runtime, work)


@router.post("/api/v1/backups", summary="Back up now (admin)", status_code=201)
async def run_backup(
    body: BackupRequest, runtime: RuntimeDep, principal: Admin
) -> list[dict[str, Any]]:
    def work() -> list[dict[str, Any]]:
        done = service.backup(_context(runtime, principal), body.source)
        return [m.body() for m in done]

    return await run_in_threadpool(work)


@router.get("/api/v1/dr/drills", response_model=PageOut[DrillPublic], summary="List drills")
async def list_drills(
    session: SessionDep, runtime: RuntimeDep, _: Viewer, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[DrillPublic]:
    def work() -> PageOut[DrillPublic]:
        page = records.list_drills(session, limit, cursor)
        items = [DrillPublic.model_validate(r) for r in page.items]
        return PageOut(items=items, next_cursor=page.next_cursor)

    return await run_read(runtime, work)


@router.post("/api/v1/dr/drills", summary="Run a restore drill now (admin)", status_code=201)
async def run_drill(runtime: RuntimeDep, principal: Admin) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        return drill(_context(runtime, principal)).as_dict()

    return await run_in_threadpool(work)


@router.get("/api/v1/dr/status", summary="Newest restorable points and the last drill")
async def dr_status(session: SessionDep, runtime: RuntimeDep, _: Viewer) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        config = load_config(runtime.settings)
        names = [s.name for s in config.sources]
        return gather(session, config.objectives, names, runtime.clock()).as_dict()

    return await run_read(runtime, work)


@router.post("/api/v1/dr/restore", summary="Restore a snapshot (admin)")
async def run_restore(
    body: RestoreRequest, runtime: RuntimeDep, principal: Admin
) -> list[dict[str, Any]]:
    def work() -> list[dict[str, Any]]:
        return service.restore(
            _context(runtime, principal),
            snapshot_id=body.id,
            day=body.date,
            to_time=body.to_time,
            source=body.source,
            target=body.target,
            force=body.force,
        )

    return await run_in_threadpool(work)
