"""`POST /api/v1/policy/evaluate`: the input document and the decision, without acting."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from code_engine.api.deps import Developer, Now, RuntimeDep, SessionDep, authorize
from code_engine.api.routers.deploy_common import actor, deploy_context
from code_engine.api.schemas import ERROR_RESPONSES
from code_engine.auth.roles import Role
from code_engine.deploy.policy_hook import evaluate as evaluate_policies

router = APIRouter(prefix="/api/v1/policy", tags=["policy"], responses=ERROR_RESPONSES)

Action = Literal["deploy", "promote", "rollback", "abort", "approve", "create_release"]


class EvaluateBody(BaseModel):
    service: str
    action: Action = Field("deploy", description="The action to ask about.")
    environment: str | None = Field(None, description="Its environment (none: a release).")
    version: str | None = Field(None, description="Release version; default the latest.")


class EvaluateOut(BaseModel):
    allowed: bool
    action: str
    messages: list[str]
    policies: list[dict[str, Any]]
    input_hash: str
    duration_ms: float
    input: dict[str, Any]


@router.post("/evaluate", response_model=EvaluateOut, summary="What the policies would decide")
def evaluate(
    body: EvaluateBody, session: SessionDep, principal: Developer, now: Now, runtime: RuntimeDep
) -> EvaluateOut:
    authorize(principal, Role.developer, body.environment)
    decision = evaluate_policies(
        session,
        deploy_context(runtime, now),
        actor(principal),
        body.action,
        body.service,
        body.environment,
        body.version,
    )
    return EvaluateOut(**decision.to_dict(), input=decision.input)
