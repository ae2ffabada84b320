"""Reading a deployment for one tick and writing the decision back in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from code_engine.audit import trail as audit
from code_engine.deploy import store
from code_engine.deploy.commands import consume, pending_commands
from code_engine.deploy.plan import Launch, RouterPlan
from code_engine.deploy.rollout import (
    Command,
    Decision,
    Phase,
    PromoteCanaryToStable,
    RecordMeasurement,
    RolloutState,
    Status,
    Transition,
    state_from_dict,
    state_to_dict,
)
from code_engine.deploy.rollout.codec import measurement_to_dict
from code_engine.deploy.service import resource

CONTROLLER = "controller"


@dataclass(frozen=True)
class Loaded:
    """What one tick needs of a deployment."""

    deployment_id: int
    service: str
    environment: str
    rollout: RolloutState
    launches: dict[str, Launch]
    router: RouterPlan
    commands: tuple[tuple[int, Command], ...]


def load(session: Session, deployment_id: int) -> Loaded:
    row = store.get_deployment(session, deployment_id)
    state = row.state
    commands = tuple((c.id, Command(c.command)) for c in pending_commands(session, row.id))
    return Loaded(
        deployment_id=row.id,
        service=state["service"],
        environment=state["environment"],
        rollout=state_from_dict(state),
        launches={v: Launch.from_dict(d) for v, d in state.get("launch", {}).items()},
        router=RouterPlan.from_dict(state.get("router", {})),
        commands=commands,
    )


def persist(
    session: Session,
    loaded: Loaded,
    decision: Decision,
    consumed: Sequence[int],
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the new rollout state, its record actions and the consumed commands."""
    row = store.get_deployment(session, loaded.deployment_id)
    data = dict(row.state)
    events = list(data.get("events", []))
    measurements = {_key(m): m for m in data.get("measurements", [])}
    where = resource(loaded.service, loaded.environment, row.id)
    for action in decision.record_actions:
        if isinstance(action, Transition):
            events.append(
                {
                    "at": now.isoformat(),
                    "status": action.status.value,
                    "reason": action.reason,
                    "message": action.message,
                }
            )
            audit.record(
                session,
                at=now,
                principal=CONTROLLER,
                action=f"deployment.{action.status.value}",
                resource=where,
                detail={"reason": action.reason, "message": action.message},
            )
        elif isinstance(action, RecordMeasurement):
            entry = {
                "step": action.step_index,
                "run_started_at": action.run_started_at.isoformat(),
                "index": action.index,
                **measurement_to_dict(action.measurement),
            }
            measurements[_key(entry)] = entry
        elif isinstance(action, PromoteCanaryToStable):
            events.append({"at": now.isoformat(), "promoted": action.version})
    state = decision.state
    extra = dict(extra or {})
    errors = {**data.get("errors", {}), **extra.pop("errors", {})}
    data.update(extra)
    if errors:
        data["errors"] = errors
    data.update(state_to_dict(state))
    data["events"] = events
    data["measurements"] = sorted(measurements.values(), key=_key)
    row.state = data
    row.message = state.message
    # the outcome is DORA's record: written through its one writer
    store.record_status(
        session,
        row,
        status=state.status.value,
        started_at=state.started_at,
        finished_at=state.finished_at,
    )
    consume(session, consumed, now)


def note_error(session: Session, deployment_id: int, error: str) -> None:
    """Show why a deployment cannot move (its status is left to the controller)."""
    row = store.get_deployment(session, deployment_id)
    if row.message != error:
        row.message = error
        row.state = {**row.state, "errors": {"controller": error}}


def _key(entry: dict[str, Any]) -> tuple[int, str, int]:
    return (int(entry["step"]), str(entry["run_started_at"]), int(entry["index"]))


def fail_at_once(
    session: Session, deployment_id: int, reason: str, message: str, now: datetime
) -> None:
    """End a deployment the controller cannot run at all (nothing was started or routed for
    it, e.g. its router's port is taken): failed, with why."""
    loaded = load(session, deployment_id)
    state = loaded.rollout
    if state.status.terminal:
        return
    failed = replace(
        state,
        status=Status.FAILED,
        phase=Phase.DONE,
        reason=reason,
        message=message,
        started_at=state.started_at or now,
        finished_at=now,
        updated_at=now,
    )
    decision = Decision(failed, (Transition(str(deployment_id), Status.FAILED, reason, message),))
    persist(session, loaded, decision, [], now, {"errors": {"controller": message}})
