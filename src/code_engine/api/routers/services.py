"""`/api/v1/services` and `/api/v1/environments`: the service catalog."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from code_engine.api.deps import Admin, Cursor, Limit, Now, RuntimeDep, SessionDep, Viewer, run_read
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public
from code_engine.audit import trail as audit
from code_engine.catalog import store
from code_engine.catalog.repos import MAX_LENGTH, change_repo, check_repo, parse_allowed
from code_engine.catalog.store import EnvironmentDraft

router = APIRouter(prefix="/api/v1", tags=["services"], responses=ERROR_RESPONSES)
NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class EnvironmentIn(BaseModel):
    name: str = Field(pattern=NAME)
    target_kind: str = Field("local", pattern="^(local|kubernetes)$")
    requires_previous: bool = False


class ServiceCreate(BaseModel):
    name: str = Field(pattern=NAME, description="DNS-label style service name.")
    repo: str = Field(
        "",
        max_length=MAX_LENGTH,
        description="Git repository (URL or server-side path), within CODE_ALLOWED_REPO_URLS.",
    )
    description: str = Field("", max_length=4096)
    environments: list[EnvironmentIn] = Field(
        default_factory=lambda: [
            EnvironmentIn(name="dev"),
            EnvironmentIn(name="staging", requires_previous=True),
            EnvironmentIn(name="prod", requires_previous=True),
        ],
        description="Ordered promotion path; dev, staging, prod by default.",
        min_length=1,
        max_length=64,
    )

    @field_validator("environments")
    @classmethod
    def _distinct_names(cls, environments: list[EnvironmentIn]) -> list[EnvironmentIn]:
        seen: set[str] = set()
        for environment in environments:
            if environment.name in seen:
                raise ValueError(f"environment {environment.name!r} is listed twice")
            seen.add(environment.name)
        return environments


class ServiceUpdate(BaseModel):
    """What an admin may change on a registered service."""

    model_config = ConfigDict(extra="forbid")

    repo: str = Field(
        min_length=1,
        max_length=MAX_LENGTH,
        description="New git repository; releases after this are built from it.",
    )


class EnvironmentPublic(Public):
    id: int
    name: str
    position: int
    target_kind: str
    requires_previous: bool


class ServicePublic(Public):
    id: int
    name: str
    repo: str
    description: str
    created_at: datetime


class ServiceDetail(ServicePublic):
    environments: list[EnvironmentPublic]


@router.get("/services", response_model=PageOut[ServicePublic], summary="List services")
async def list_services(
    session: SessionDep, runtime: RuntimeDep, _: Viewer, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[ServicePublic]:
    def work() -> PageOut[ServicePublic]:
        page = store.list_services(session, limit, cursor)
        return PageOut(
            items=[ServicePublic.model_validate(r) for r in page.items],
            next_cursor=page.next_cursor,
        )

    return await run_read(runtime, work)


@router.get("/services/{name}", response_model=ServiceDetail, summary="Show a service")
def show_service(name: str, session: SessionDep, _: Viewer) -> ServiceDetail:
    row = store.require_service(session, name)
    envs = [EnvironmentPublic.model_validate(e) for e in store.list_environments(session, row.id)]
    return ServiceDetail(**ServicePublic.model_validate(row).model_dump(), environments=envs)


@router.post(
    "/services", response_model=ServiceDetail, status_code=201, summary="Register a service"
)
def create_service(
    body: ServiceCreate, session: SessionDep, principal: Admin, now: Now, runtime: RuntimeDep
) -> ServiceDetail:
    if body.repo:
        check_repo(body.repo, parse_allowed(runtime.settings.allowed_repo_urls))
    drafts = [
        EnvironmentDraft(e.name, e.target_kind, e.requires_previous) for e in body.environments
    ]
    row = store.create_service(session, body.name, body.repo, body.description, drafts, now)
    audit.record(
        session,
        at=now,
        principal=principal.name,
        action="service.create",
        resource=f"service/{row.name}",
    )
    return show_service(row.name, session, principal)


@router.patch(
    "/services/{name}",
    response_model=ServiceDetail,
    summary="Change a service's repository (admin, audited)",
)
def update_service(
    name: str,
    body: ServiceUpdate,
    session: SessionDep,
    principal: Admin,
    now: Now,
    runtime: RuntimeDep,
) -> ServiceDetail:
    allowed = parse_allowed(runtime.settings.allowed_repo_urls)
    change_repo(session, name, body.repo, allowed, actor=principal.name, now=now)
    return show_service(name, session, principal)


@router.get(
    "/environments",
    response_model=list[EnvironmentPublic],
    summary="List a service's environments in promotion order",
)
async def list_environments(
    service: str, session: SessionDep, runtime: RuntimeDep, _: Viewer
) -> list[EnvironmentPublic]:
    def work() -> list[EnvironmentPublic]:
        row = store.require_service(session, service)
        return [
            EnvironmentPublic.model_validate(e) for e in store.list_environments(session, row.id)
        ]

    return await run_read(runtime, work)
