"""`/api/v1/incidents`: open and resolve incidents."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from code_engine.api.access import environment_name, existing_incident
from code_engine.api.deps import (
    Cursor,
    Developer,
    Limit,
    Now,
    RuntimeDep,
    SessionDep,
    Viewer,
    authorize,
    run_read,
    visible,
)
from code_engine.api.schemas import ERROR_RESPONSES, PageOut, Public, UtcDatetime
from code_engine.audit import trail as audit
from code_engine.auth.roles import Role
from code_engine.auth.tokens import Principal
from code_engine.catalog.store import require_environment, require_service
from code_engine.dora import incidents as store
from code_engine.dora.incidents import IncidentRecord
from code_engine.dora.runs import deployment_environment
from code_engine.store.tables import IncidentRow

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], responses=ERROR_RESPONSES)


class IncidentCreate(BaseModel):
    service: str
    title: str = Field(min_length=1, max_length=500)
    environment: str | None = None
    severity: str = Field("major", pattern="^(critical|major|minor)$")
    deployment_id: int | None = None
    external_id: str | None = Field(None, max_length=200)
    opened_at: UtcDatetime | None = None


class IncidentResolve(BaseModel):
    resolved_at: UtcDatetime | None = None


class IncidentPublic(Public):
    id: int
    external_id: str | None
    title: str
    severity: str
    source: str
    deployment_id: int | None
    opened_at: datetime
    resolved_at: datetime | None


@router.get("", response_model=PageOut[IncidentPublic], summary="List incidents")
async def list_incidents(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Viewer,
    service: str | None = None,
    open_only: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[IncidentPublic]:
    shown = visible(principal)

    def work() -> PageOut[IncidentPublic]:
        service_id = require_service(session, service).id if service else None
        page = store.list_incidents(
            session,
            limit,
            cursor,
            service_id=service_id,
            open_only=open_only,
            environments=shown,
        )
        return PageOut(
            items=[IncidentPublic.model_validate(r) for r in page.items],
            next_cursor=page.next_cursor,
        )

    return await run_read(runtime, work)


@router.get("/{incident_id}", response_model=IncidentPublic, summary="Show an incident")
def show_incident(incident_id: int, session: SessionDep, principal: Viewer) -> IncidentPublic:
    row = store.get_incident(session, incident_id)
    _authorize_incident(session, principal, Role.viewer, row)
    return IncidentPublic.model_validate(row)


def _authorize_incident(
    session: SessionDep, principal: Principal, role: Role, row: IncidentRow
) -> None:
    """An incident of no environment counts for every one: only a global binding acts on it."""
    authorize(principal, role, environment_name(session, row.environment_id))


@router.post("", response_model=IncidentPublic, status_code=201, summary="Open an incident")
def open_incident(
    body: IncidentCreate, session: SessionDep, principal: Developer, now: Now
) -> IncidentPublic:
    authorize(principal, Role.developer, body.environment or None)
    if body.deployment_id is not None:
        linked = deployment_environment(session, body.deployment_id)
        if linked is not None:
            authorize(principal, Role.developer, linked)
    replaced = existing_incident(session, body.external_id)
    if replaced is not None:
        _authorize_incident(session, principal, Role.developer, replaced)
    service = require_service(session, body.service)
    env_id = (
        require_environment(session, service.id, body.environment).id if body.environment else None
    )
    row, _outcome = store.record_incident(
        session,
        IncidentRecord(
            service_id=service.id,
            title=body.title,
            opened_at=body.opened_at or now,
            severity=body.severity,
            environment_id=env_id,
            deployment_id=body.deployment_id,
            external_id=body.external_id,
        ),
    )
    audit.record(
        session,
        at=now,
        principal=principal.name,
        action="incident.open",
        resource=f"incident/{row.id}",
    )
    return IncidentPublic.model_validate(row)


@router.post("/{incident_id}/resolve", response_model=IncidentPublic, summary="Resolve an incident")
def resolve_incident(
    incident_id: int, body: IncidentResolve, session: SessionDep, principal: Developer, now: Now
) -> IncidentPublic:
    _authorize_incident(
        session, principal, Role.developer, store.get_incident(session, incident_id)
    )
    row = store.resolve_incident(session, incident_id, body.resolved_at or now)
    audit.record(
        session,
        at=now,
        principal=principal.name,
        action="incident.resolve",
        resource=f"incident/{row.id}",
    )
    return IncidentPublic.model_validate(row)
