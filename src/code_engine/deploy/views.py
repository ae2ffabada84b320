"""What people see of a deployment and of an environment: plain data for the API and CLI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from code_engine.catalog.store import list_environments, require_service
from code_engine.deploy import environments as envs
from code_engine.deploy.kubernetes.state import GITOPS, GitOpsState
from code_engine.deploy.rollout import (
    Analysis,
    Pause,
    Phase,
    RolloutState,
    SetWeight,
    Step,
    state_from_dict,
)


def describe_step(step: Step) -> str:
    if isinstance(step, SetWeight):
        return f"set_weight {step.weight}%"
    if isinstance(step, Pause):
        return "pause" if step.duration is None else f"pause {step.duration.total_seconds():g}s"
    if isinstance(step, Analysis):
        spec = step.spec
        return f"analysis {spec.count}x{spec.interval.total_seconds():g}s"
    return type(step).__name__


def progress(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """Phase, step and weight of a run deployment's rollout (None for recorded ones)."""
    if "launch" not in state:
        return None  # a recorded deployment
    if GITOPS in state:
        return gitops_progress(state[GITOPS])
    try:
        rollout = state_from_dict(dict(state))
    except (KeyError, TypeError, ValueError):
        return None
    plan = rollout.plan
    step = rollout.current_step
    analysis = rollout.analysis
    return {
        "phase": rollout.phase.value,
        "step": min(rollout.step_index + 1, len(plan)),
        "steps": len(plan),
        "current_step": None if step is None else describe_step(step),
        "plan": [describe_step(s) for s in plan],
        "canary": rollout.canary_version,
        "stable": rollout.stable_version,
        "weight": rollout.current_weight,
        "paused": None if rollout.pause is None else rollout.pause.reason.value,
        "measurements": 0 if analysis is None else len(analysis.measurements),
        "reason": rollout.reason,
        "url": state.get("url"),
        # a blue-green preview under way: where people and smoke tests reach it
        "preview_url": state.get("preview_url") if rollout.preview_version else None,
        "traffic_needed": traffic_needed(rollout),
    }


def gitops_progress(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """Where a Kubernetes deployment stands: its commit, and Argo CD's view of it."""
    try:
        state = GitOpsState.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None
    release = state.release
    seen = " ".join(part for part in (state.sync, state.health) if part)
    step = None if state.step is None else state.step + 1
    return {
        "phase": state.phase.value,
        "step": min(step or 0, state.steps or step or 0),
        "steps": state.steps or 0,
        "current_step": None if step is None else f"Rollout step {step}",
        "plan": [],
        "canary": release.version,
        "application": release.application,
        "argocd": seen,
        "commit": state.commit,
        "branch": state.branch,
        "revert_commit": state.revert_commit,
        "revert_of": state.revert_of,
        "reason": state.reason,
        "url": None,
        "preview_url": None,
        "traffic_needed": None,
    }


def traffic_needed(rollout: RolloutState) -> dict[str, float] | None:
    """While an analysis step runs: the request rate to the environment it needs to
    decide, and how long its measurements take."""
    step = rollout.current_step
    if not isinstance(step, Analysis) or rollout.phase is not Phase.STEPPING:
        return None
    spec = step.spec
    seconds = spec.interval.total_seconds()
    share = rollout.current_weight / 100 if rollout.current_weight > 0 else 1.0
    return {
        "requests_per_second": round(spec.min_requests / seconds / share, 2),
        "seconds": seconds * spec.count,
    }


def environment_status(
    session: Session, service: str, environment: str | None = None
) -> list[dict[str, Any]]:
    """Per environment in promotion order: what serves it and what is rolling out (or
    awaits approval: it has no progress yet)."""
    row = require_service(session, service)
    result = []
    for env in list_environments(session, row.id):
        if environment is not None and env.name != environment:
            continue
        current = envs.current_deployment(session, row.id, env.id)
        active = envs.open_deployment(session, row.id, env.id)
        latest = envs.latest_run(session, row.id, env.id)
        result.append(
            {
                "environment": env.name,
                "version": None if current is None else current.version,
                "deployment": None if current is None else current.id,
                "url": None if latest is None else latest.state.get("url"),
                "active": None
                if active is None
                else {
                    "id": active.id,
                    "version": active.version,
                    "status": active.status,
                    "created_by": active.created_by,
                    "message": active.message,
                    "progress": None
                    if active.status == envs.AWAITING_APPROVAL
                    else progress(active.state),
                },
                "last_failure": last_failure(latest, current),
            }
        )
    return result


def last_failure(latest: Any, current: Any) -> dict[str, Any] | None:
    """The newest run deployment when it failed after what serves now: why, and the
    start errors of its versions (a full disk, a missing command, ...)."""
    if latest is None or latest.status not in ("failed", "rolled_back"):
        return None
    if current is not None and current.id > latest.id:
        return None
    state = latest.state or {}
    return {
        "id": latest.id,
        "version": latest.version,
        "status": latest.status,
        "reason": state.get("reason"),
        "message": latest.message,
        "errors": state.get("errors", {}),
    }
