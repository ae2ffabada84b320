"""Approvals: an environment whose `code.yaml` sets `protection.approval` holds every
deployment until a second person who may deploy there approves it.

The review lives in the deployment's state (`review`, plus one entry in `events` per step)
and its reviewer in `reviewed_by`; the status says where it stands: `awaiting_approval`,
then `pending` (the controller runs it) or `rejected` (final: it never ran, so it is no
DORA deployment).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from code_engine.auth.roles import Binding
from code_engine.deploy import environments as envs
from code_engine.deploy import protection
from code_engine.dora import runs
from code_engine.errors import ConflictError
from code_engine.spec import Protection
from code_engine.store.tables import DeploymentRow

AWAITING = envs.AWAITING_APPROVAL
REJECTED = "rejected"
APPROVED = "approved"
ABORTED = "aborted"


def event(
    now: datetime, status: str, reason: str, message: str, by: str, comment: str = ""
) -> dict[str, Any]:
    """One step of a review as the deployment's events list it."""
    entry = {"at": now.isoformat(), "status": status, "reason": reason, "message": message}
    entry["by"] = by
    if comment:
        entry["comment"] = comment
    return entry


def waiting_message(environment: str) -> str:
    return f"awaiting approval by a second deployer of {environment}"


def request(rules: Protection, environment: str, requester: str, now: datetime) -> dict[str, Any]:
    """What a new deployment's state holds while it waits: its review and first event.

    The environment's `deployers` are kept with it: they decide who may approve, as the
    release's `code.yaml` said when the deployment was asked for.
    """
    review = {
        "requested_by": requester,
        "requested_at": now.isoformat(),
        "deployers": list(rules.deployers),
        "decision": None,
    }
    waiting = event(now, AWAITING, "approval required", waiting_message(environment), requester)
    return {"review": review, "events": [waiting]}


def awaiting(session: Session, deployment_id: int, verb: str) -> DeploymentRow:
    """The deployment to `verb`; ConflictError unless it awaits an approval."""
    row = runs.locked_deployment(session, deployment_id)
    if row.status != AWAITING or not envs.is_run(row):
        raise ConflictError(
            f"deployment {row.id} is {row.status}, not awaiting approval: nothing to {verb}"
        )
    return row


def _rules(row: DeploymentRow) -> Protection:
    review = row.state.get("review") or {}
    return Protection(deployers=list(review.get("deployers", [])), approval=True)


def _environment(row: DeploymentRow) -> str:
    return str(row.state.get("environment", ""))


def _close(
    row: DeploymentRow, decision: str, status: str, by: str, comment: str, now: datetime
) -> None:
    """Write the decision into the review, the events, the status and the message."""
    state = dict(row.state)
    message = f"{decision} by {by}" + (f": {comment}" if comment else "")
    if decision == ABORTED:
        message = f"aborted by {by} before approval"
    state["review"] = {
        **state.get("review", {}),
        "decision": decision,
        "by": by,
        "at": now.isoformat(),
        "comment": comment,
    }
    state["events"] = [*state.get("events", []), event(now, status, decision, message, by, comment)]
    if status == REJECTED:
        # the rollout never started: it ends where it stands, without a phase to show
        state.update(phase="done", reason=decision, message=message, finished_at=now.isoformat())
        row.finished_at = now
    if decision != ABORTED:
        row.reviewed_by = by
    row.state = state
    row.status = status
    row.message = message


def approve(
    session: Session,
    deployment_id: int,
    approver: str,
    bindings: Iterable[Binding],
    comment: str,
    now: datetime,
) -> DeploymentRow:
    """Let the controller run a deployment awaiting approval: `approver` must be allowed to
    deploy to its environment and must not be who asked for it."""
    row = awaiting(session, deployment_id, "approve")
    protection.check_approver(_rules(row), _environment(row), approver, row.created_by, bindings)
    _close(row, APPROVED, "pending", approver, comment, now)
    return row


def reject(
    session: Session,
    deployment_id: int,
    reviewer: str,
    bindings: Iterable[Binding],
    comment: str,
    now: datetime,
) -> DeploymentRow:
    """End a deployment awaiting approval without running it (its requester may too)."""
    row = awaiting(session, deployment_id, "reject")
    protection.check_deployer(_rules(row), _environment(row), reviewer, bindings)
    _close(row, REJECTED, REJECTED, reviewer, comment, now)
    return row


def abort(session: Session, deployment_id: int, by: str, now: datetime) -> DeploymentRow:
    """An abort before approval: the deployment ends `rejected`, never having run."""
    row = awaiting(session, deployment_id, "abort")
    _close(row, ABORTED, REJECTED, by, "", now)
    return row
