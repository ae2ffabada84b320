"""The GitOps deployment's decision: pure, from its state and one look at Argo CD.

`decide(state, seen, now)` says what to do next (publish, abort, revert) and how the
deployment stands; `published`, `reverted` and `failed_to_push` fold what the executor
did back into the state. Argo CD's words map to CODE's states: a Rollout Paused is
`paused`, Healthy at the pushed revision is `succeeded`, Degraded or a failed analysis
starts the rollback (abort + revert) and ends `rolled_back`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from code_engine.deploy.kubernetes.argocd import ApplicationStatus, RolloutRef, RolloutStatus
from code_engine.deploy.kubernetes.state import GitOpsState, Phase
from code_engine.deploy.rollout import Status


@dataclass(frozen=True)
class Seen:
    """One look at Argo CD (None where it could not be read, with the error)."""

    app: ApplicationStatus | None = None
    rollouts: tuple[RolloutStatus | None, ...] = ()
    error: str | None = None
    abort: bool = False  # a person asked to roll back the deployment in flight
    # Argo CD's revision includes the pushed commit (later commits of others on top of it);
    # None: only the commit itself counts
    contains: bool | None = None


@dataclass(frozen=True)
class Publish:
    """Render the release, validate it and push it as one commit."""


@dataclass(frozen=True)
class Revert:
    """Push the revert of `commit`."""

    commit: str


@dataclass(frozen=True)
class Abort:
    """Abort the in-flight Rollout through Argo CD."""

    rollout: RolloutRef


Action = Publish | Revert | Abort


@dataclass(frozen=True)
class Decision:
    state: GitOpsState
    actions: tuple[Action, ...] = ()


def decide(state: GitOpsState, seen: Seen, now: datetime) -> Decision:
    """What to do next for the deployment, given one look at Argo CD."""
    if state.phase is Phase.DONE:
        return Decision(state)
    if state.phase is Phase.PUBLISH:
        if seen.abort:
            return Decision(
                state.finish(Status.FAILED, "aborted", "aborted before publishing", now)
            )
        action: Action = Publish() if state.revert_of is None else Revert(state.revert_of)
        return Decision(state, (action,))
    if state.phase is Phase.REVERT:
        return _rolling_back(state)
    return _syncing(state, seen, now)


def _rolling_back(state: GitOpsState) -> Decision:
    aborts = tuple(Abort(ref) for ref in state.release.rollouts)
    if state.commit is None or state.on_side_branch:  # nothing reached the branch Argo follows
        outcome = state.outcome or Status.ROLLED_BACK
        message = state.message
        if state.on_side_branch:
            message += f"; branch {state.branch} was not merged: delete it"
        return Decision(replace(state, phase=Phase.DONE, status=outcome, message=message))
    return Decision(state, (*aborts, Revert(state.commit)))


def start_rollback(state: GitOpsState, outcome: Status, reason: str, message: str) -> Decision:
    """Abort the Rollout and revert the commit; the deployment ends in `outcome`."""
    if state.revert_of is not None:  # a rollback that failed is not rolled back again
        return Decision(
            replace(state, phase=Phase.DONE, status=Status.FAILED, reason=reason, message=message)
        )
    reverting = replace(state, phase=Phase.REVERT, outcome=outcome, reason=reason, message=message)
    return _rolling_back(reverting)


def _syncing(state: GitOpsState, seen: Seen, now: datetime) -> Decision:
    if seen.abort:
        return start_rollback(state, Status.ROLLED_BACK, "aborted", "aborted by user")
    started = state.started_at or now
    if now - started > state.deadline:
        message = f"Argo CD did not report it Healthy within {state.deadline}"
        return start_rollback(state, Status.FAILED, "progress deadline exceeded", message)
    app = seen.app
    if app is None:
        message = f"cannot read Argo CD: {seen.error}" if seen.error else state.message
        return Decision(replace(state, message=message))
    looked = replace(state, health=app.health, sync=app.sync)
    commit = state.commit or ""
    contains = seen.contains if seen.contains is not None else app.revision == commit
    if not contains or app.sync != "Synced":
        where = f" on branch {state.branch} (merge it)" if state.on_side_branch else ""
        message = (
            f"waiting for Argo CD to sync {commit[:12]}{where}: {app.sync} at "
            f"{(app.revision or 'no revision')[:12]}"
        )
        status = Status.PAUSED if state.on_side_branch else Status.PROGRESSING
        return Decision(replace(looked, status=status, message=message))
    rollouts = [r for r in seen.rollouts if r is not None]
    failed = next((r.failed_analysis for r in rollouts if r.failed_analysis), None)
    if failed is not None:
        message = f"analysis run {failed.name} {failed.status}: {failed.message}".rstrip(": ")
        return start_rollback(looked, Status.ROLLED_BACK, "analysis failed", message)
    degraded = next((r for r in rollouts if r.phase == "Degraded"), None)
    if degraded is not None or app.health == "Degraded":
        detail = degraded.message if degraded is not None else app.message
        message = f"Argo CD reports {state.release.application} Degraded: {detail}".rstrip(": ")
        return start_rollback(looked, Status.ROLLED_BACK, "degraded", message)
    step = next((r for r in rollouts if r.step is not None), None)
    looked = replace(
        looked,
        step=None if step is None else step.step,
        steps=None if step is None else step.steps,
    )
    if app.health == "Healthy" and all(r.phase == "Healthy" for r in rollouts):
        return Decision(looked.finish(Status.SUCCEEDED, "healthy", "Argo CD reports Healthy", now))
    paused = next((r for r in rollouts if r.phase == "Paused"), None)
    if paused is not None:
        at = "" if paused.step is None else f" at step {paused.step + 1}/{paused.steps}"
        message = f"Rollout {paused.name} paused{at}: {paused.message}".rstrip(": ")
        return Decision(replace(looked, status=Status.PAUSED, message=message))
    message = f"Argo CD reports {app.health}"
    return Decision(replace(looked, status=Status.PROGRESSING, message=message))


def published(
    state: GitOpsState, commit: str, branch: str, side_branch: bool, now: datetime
) -> GitOpsState:
    """The commit is pushed: follow what Argo CD does with it."""
    where = f"pushed {commit[:12]} to {branch}"
    if side_branch:
        where += " (the branch refuses direct pushes: merge it to deliver)"
    return replace(
        state,
        phase=Phase.SYNC,
        status=Status.PAUSED if side_branch else Status.PROGRESSING,
        commit=commit,
        branch=branch,
        on_side_branch=side_branch,
        message=where,
        started_at=state.started_at or now,
    )


def reverted(state: GitOpsState, commit: str, now: datetime) -> GitOpsState:
    """The revert of the deployment's commit is pushed: the rollback is done."""
    outcome = state.outcome or Status.ROLLED_BACK
    message = f"{state.message}; reverted {(state.commit or '')[:12]} in {commit[:12]}"
    done = state.finish(outcome, state.reason, message, now)
    return replace(done, revert_commit=commit)


def failed_to_push(state: GitOpsState, error: str, now: datetime) -> GitOpsState:
    """Publishing failed (nothing was pushed): the deployment failed with why."""
    return state.finish(Status.FAILED, "publish failed", error, now)
