"""One step of the state machine per phase: `advance(state, observations, now) -> Progress`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from code_engine.deploy.rollout.actions import (
    Action,
    DrainAndStop,
    EnsureStable,
    PromoteCanaryToStable,
    SetWeights,
    StartCanary,
)
from code_engine.deploy.rollout.model import Phase, RolloutState, Status
from code_engine.deploy.rollout.observations import InstanceState, Observations, same_weights

READY = InstanceState.READY


@dataclass(frozen=True)
class Progress:
    """The result of one phase step: the next state, actions, and when to look again."""

    state: RolloutState
    actions: tuple[Action, ...] = ()
    wakeup: datetime | None = None


def weights_for(state: RolloutState, canary_weight: int) -> dict[str, int]:
    """Router weights giving the canary `canary_weight` percent and stable the rest."""
    if state.stable_version is None:
        return {state.canary_version: 100 if canary_weight > 0 else 0}
    return {state.stable_version: 100 - canary_weight, state.canary_version: canary_weight}


def ensure_weights(
    state: RolloutState, obs: Observations, canary_weight: int
) -> tuple[bool, tuple[Action, ...]]:
    """(True, ()) when the router routes as wanted and its targets are ready; else what to do.

    Never asks to route weight to a version that is not ready.
    """
    desired = weights_for(state, canary_weight)
    stable = state.stable_version
    if stable is not None and desired[stable] > 0 and obs.stable is not READY:
        return False, (EnsureStable(stable),)
    if same_weights(obs.weights, desired):
        return True, ()
    if desired[state.canary_version] > 0 and obs.canary is not READY:
        return False, ()
    return False, (SetWeights(desired),)


def start_rollback(state: RolloutState, outcome: Status, reason: str, message: str) -> RolloutState:
    """Enter the rollback phase; it ends in `outcome` once the canary is out and stopped."""
    return replace(
        state,
        phase=Phase.ROLLING_BACK,
        status=Status.PROGRESSING,
        outcome=outcome,
        pause=None,
        reason=reason,
        message=f"rolling back: {message}",
    )


def canary_lost(state: RolloutState, obs: Observations) -> RolloutState:
    """The canary stopped being ready: roll back (`failed` if it never served traffic)."""
    outcome = Status.ROLLED_BACK if state.canary_had_traffic else Status.FAILED
    failure = obs.canary_failure
    if failure is not None and obs.canary is InstanceState.CRASHED:
        return start_rollback(state, outcome, failure.reason, failure.message)
    reason = "canary crashed" if obs.canary is InstanceState.CRASHED else "canary not running"
    return start_rollback(
        state, outcome, reason, f"canary {state.canary_version} is {obs.canary.value}"
    )


def starting(state: RolloutState, obs: Observations, now: datetime) -> Progress:
    """Start the canary with no traffic and wait until it is ready or the deadline passes."""
    if obs.canary is READY:
        return Progress(
            replace(state, phase=Phase.STEPPING, canary_ready=True, message="canary ready")
        )
    if obs.canary is InstanceState.CRASHED:
        return Progress(canary_lost(state, obs))
    deadline = (state.started_at or now) + state.spec.ready_timeout
    if now >= deadline:
        message = f"canary {state.canary_version} not ready within {state.spec.ready_timeout}"
        return Progress(start_rollback(state, Status.FAILED, "canary not ready", message))
    _, weight_actions = ensure_weights(state, obs, 0)
    start = StartCanary(state.canary_version, state.spec.instances)
    return Progress(state, (start, *weight_actions), deadline)


def promoting(state: RolloutState, obs: Observations) -> Progress:
    """Route all traffic to the canary; once verified, move on to retiring stable."""
    if obs.canary is not READY:
        return Progress(canary_lost(state, obs))
    verified, actions = ensure_weights(state, obs, 100)
    if not verified:
        return Progress(state, actions)
    message = "canary at 100%" + (", draining stable" if state.stable_version else "")
    return Progress(
        replace(
            state,
            phase=Phase.FINALIZING,
            current_weight=100,
            canary_had_traffic=True,
            message=message,
        )
    )


def finalizing(state: RolloutState, obs: Observations, now: datetime) -> Progress:
    """Drain and stop the outgoing stable version, then record success."""
    stable = state.stable_version
    if stable is not None and not obs.stable.stopped:
        if obs.canary is not READY:  # stable is not gone yet: go back to it, not forward
            return Progress(canary_lost(state, obs))
        verified, actions = ensure_weights(state, obs, 100)
        if not verified:
            return Progress(state, actions)
        return Progress(state, (DrainAndStop(stable),))
    if obs.canary is READY:  # the router may have lost its table meanwhile: restore, then finish
        verified, actions = ensure_weights(state, obs, 100)
        if not verified:
            return Progress(state, actions)
    done = replace(
        state,
        phase=Phase.DONE,
        status=Status.SUCCEEDED,
        reason="promoted",
        message=f"{state.canary_version} serves 100%",
        finished_at=now,
    )
    return Progress(done, (PromoteCanaryToStable(state.deployment_id, state.canary_version),))


def rolling_back(state: RolloutState, obs: Observations, now: datetime) -> Progress:
    """Route everything back to stable FIRST, then drain and stop the canary, then finish."""
    verified, actions = ensure_weights(state, obs, 0)
    if not verified:
        return Progress(state, actions)
    if not obs.canary.stopped:
        return Progress(state, (DrainAndStop(state.canary_version),))
    outcome = state.outcome or Status.ROLLED_BACK
    done = replace(
        state,
        phase=Phase.DONE,
        status=outcome,
        current_weight=0,
        message=state.message.removeprefix("rolling back: "),
        finished_at=now,
    )
    return Progress(done)
