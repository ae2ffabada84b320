"""The router, shapes and helpers shared by the deployment routes.

The routes live in two modules on this one router: `deployment_actions` (registered first,
so `/status` is never read as a deployment id) and `deployments`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy.orm import Session

from code_engine.api.errors import PermissionDeniedError
from code_engine.api.schemas import ERROR_RESPONSES, Public
from code_engine.auth.tokens import Principal
from code_engine.catalog.repos import check_repo, parse_allowed
from code_engine.deploy import store
from code_engine.deploy.gitrepo import Repository, open_repository
from code_engine.deploy.kubernetes.argocd import argocd_of
from code_engine.deploy.service import Actor, DeployContext
from code_engine.deploy.views import progress
from code_engine.errors import CodeError
from code_engine.policy.gate import Gate, gate_for
from code_engine.runtime import Runtime

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"], responses=ERROR_RESPONSES)


class DeploymentPublic(Public):
    id: int
    external_id: str | None
    service: str
    environment: str
    version: str
    strategy: str
    status: str
    trigger: str
    source: str
    created_by: str
    reviewed_by: str | None = Field(
        None, description="Who approved or rejected it, where code.yaml asks for an approval."
    )
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DeploymentDetail(DeploymentPublic):
    commits: list[str]
    progress: dict[str, Any] | None = None
    measurements: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    state: dict[str, Any]


def detail(session: Session, deployment_id: int) -> DeploymentDetail:
    row = store.get_deployment(session, deployment_id)
    summary = store.deployment_summary(session, deployment_id)
    state = row.state or {}
    return DeploymentDetail(
        **summary,
        commits=store.commits_of(session, row.id),
        progress=progress(state),
        measurements=state.get("measurements", []),
        events=state.get("events", []),
        state=state,
    )


def deploy_context(runtime: Runtime, now: datetime) -> DeployContext:
    data_dir = runtime.settings.data_dir
    allowed = parse_allowed(runtime.settings.allowed_repo_urls)

    def open_repo(repo: str) -> Repository:
        # a repository registered before the operator narrowed the list is refused too
        check_repo(repo, allowed)
        return open_repository(repo, data_dir)

    return DeployContext(
        now=now,
        data_dir=data_dir,
        open_repo=open_repo,
        argocd=argocd_of(runtime.settings),
        kubectl=runtime.settings.kubectl,
        policy=policy_gate(runtime),
    )


def policy_gate(runtime: Runtime) -> Gate:
    """The operator's policies (`CODE_POLICY_PATHS`) beside each release's own."""
    settings = runtime.settings
    return gate_for(settings.policy_paths, settings.policy_timeout_seconds)


def actor(principal: Principal) -> Actor:
    return Actor(principal.name, principal.bindings)


def forbidden(exc: CodeError) -> PermissionDeniedError:
    """A rule of code.yaml about who may act (deployers, four eyes) refuses with 403."""
    return PermissionDeniedError(str(exc))
