"""`/api/v1/releases`: versions of a service at a git commit.

For a service with a repository the commit is resolved and its `code.yaml` checked; the
local target's artifact (the snapshot plus its virtualenv) is built once, on first deploy.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

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
from code_engine.api.routers.deploy_common import actor, deploy_context
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public
from code_engine.catalog.store import require_service
from code_engine.deploy import store
from code_engine.deploy.releases import create_release as record_release
from code_engine.deploy.releases import qualification, qualifications
from code_engine.pipeline.evidence import Qualification
from code_engine.store.tables import ReleaseRow

router = APIRouter(prefix="/api/v1/releases", tags=["releases"], responses=ERROR_RESPONSES)


class ReleaseCreate(BaseModel):
    """A commit of the service's own repository; the repository is the admin's to set."""

    model_config = ConfigDict(extra="forbid")

    service: str
    version: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
    sha: str = Field(
        "",
        pattern=r"^([0-9a-f]{7,64})?$",
        description="Commit of the release; default: the repository's HEAD.",
    )


class ReleasePublic(Public):
    id: int
    version: str
    sha: str
    artifact: str
    created_by: str
    created_at: datetime
    qualified: bool = Field(
        False, description="Its commit has a passing pipeline run (evaluated on each read)."
    )
    qualification: str = Field("", description="Why it is, or is not, qualified.")


def _public(row: ReleaseRow, verdict: Qualification) -> ReleasePublic:
    return ReleasePublic.model_validate(row).model_copy(
        update={"qualified": verdict.qualified, "qualification": verdict.reason}
    )


@router.get("", response_model=PageOut[ReleasePublic], summary="List releases")
async def list_releases(
    session: SessionDep,
    runtime: RuntimeDep,
    _: Viewer,
    service: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[ReleasePublic]:
    def work() -> PageOut[ReleasePublic]:
        service_id = require_service(session, service).id if service else None
        page = store.list_releases(session, service_id, limit, cursor)
        return PageOut(
            items=[
                _public(row, verdict)
                for row, verdict in zip(
                    page.items, qualifications(session, page.items), strict=True
                )
            ],
            next_cursor=page.next_cursor,
        )

    return await run_read(runtime, work)


@router.post("", response_model=ReleasePublic, status_code=201, summary="Record a release")
def create_release(
    body: ReleaseCreate,
    session: SessionDep,
    principal: GlobalDeveloper,
    now: Now,
    runtime: RuntimeDep,
) -> ReleasePublic:
    row = record_release(
        session,
        deploy_context(runtime, now),
        actor(principal),
        body.service,
        body.version,
        body.sha,
    )
    return _public(row, qualification(session, row))
