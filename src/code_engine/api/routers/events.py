"""`/api/v1/events`: ingest a batch of commit, deployment and incident events (idempotent)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from code_engine.api.access import event_authorizer
from code_engine.api.deps import Developer, Now, SessionDep, authorize
from code_engine.api.schemas import ERROR_RESPONSES
from code_engine.audit import trail as audit
from code_engine.auth.roles import Role
from code_engine.dora.generic import EventBatch, parse_events
from code_engine.dora.ingest import ingest

router = APIRouter(prefix="/api/v1/events", tags=["events"], responses=ERROR_RESPONSES)


class IngestOut(BaseModel):
    received: int
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]


@router.post("", response_model=IngestOut, summary="Ingest a batch of events (all or nothing)")
def ingest_events(
    body: EventBatch, session: SessionDep, principal: Developer, now: Now
) -> IngestOut:
    events = parse_events(body.model_dump(mode="json"))
    result = ingest(
        session,
        events,
        by=principal.name,
        authorize_deploy=lambda env: authorize(principal, Role.deployer, env),
        authorize_event=event_authorizer(session, principal, authorize),
    )
    audit.record(
        session,
        at=now,
        principal=principal.name,
        action="events.ingest",
        detail={"received": len(events), **result.as_dict()},
    )
    return IngestOut(received=len(events), **result.as_dict())
