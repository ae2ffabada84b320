"""The rollout controller: `decide(state, observations, now) -> Decision`, pure and re-runnable.

`decide` is level-triggered: it compares what the persisted state wants with what the
executor observed and asks for whatever is still missing. Re-running it on the last
persisted state after a crash therefore resumes the rollout (or its rollback).

An executor runs one loop per rollout:

    obs = observe()            # instance states and router weights, every tick
    while not state.status.terminal:
        decision = decide(state, obs, clock())
        # one transaction: the new state, its record actions, the commands it consumed
        persist(decision.state, decision.record_actions, obs.commands)
        apply(decision.world_actions)  # in order; stop at the first error
        wait(decision.wakeup)      # or a short poll; tick again soon after world actions
        obs = observe()            # plus the sample a `Measure` returned
        state = decision.state
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from code_engine.deploy.rollout.actions import (
    RECORD_ACTIONS,
    Action,
    RecordAction,
    ScheduleWakeup,
    Transition,
    WorldAction,
    is_world_action,
)
from code_engine.deploy.rollout.model import (
    Pause,
    PauseInfo,
    PauseReason,
    Phase,
    RolloutState,
    Status,
)
from code_engine.deploy.rollout.observations import Command, Observations
from code_engine.deploy.rollout.phases import (
    Progress,
    finalizing,
    promoting,
    rolling_back,
    start_rollback,
    starting,
)
from code_engine.deploy.rollout.stepping import held, next_step, stepping


@dataclass(frozen=True)
class Decision:
    """The state to persist and the actions to apply, in order."""

    state: RolloutState
    actions: tuple[Action, ...]

    @property
    def world_actions(self) -> tuple[WorldAction, ...]:
        """Actions on processes, the router or metric providers, in the order to apply them."""
        return tuple(a for a in self.actions if is_world_action(a))

    @property
    def record_actions(self) -> tuple[RecordAction, ...]:
        """Actions to write in the same transaction as `state`."""
        return tuple(a for a in self.actions if isinstance(a, RECORD_ACTIONS))

    @property
    def wakeup(self) -> datetime | None:
        """When to tick again at the latest, if something is waiting on time."""
        return next((a.at for a in self.actions if isinstance(a, ScheduleWakeup)), None)


def decide(state: RolloutState, observations: Observations, now: datetime) -> Decision:
    """Advance the rollout as far as the observations allow, without any I/O."""
    if state.status.terminal:
        return Decision(state, ())
    actions: list[Action] = []
    current = state

    def move(new: RolloutState) -> None:
        nonlocal current
        if new.status is not current.status:
            actions.append(Transition(new.deployment_id, new.status, new.reason, new.message))
        current = new

    if current.status is Status.PENDING:
        message = f"rolling out {current.canary_version}"
        move(
            replace(
                current,
                status=Status.PROGRESSING,
                reason="started",
                message=message,
                started_at=now,
            )
        )
    for command in observations.commands:
        move(apply_command(current, command, now))
    wakeup: datetime | None = None
    for _ in range(2 * len(current.plan) + 8):  # every state change makes progress; bounded anyway
        progress = _advance(current, observations, now)
        before = current
        actions.extend(progress.actions)
        move(progress.state)
        wakeup = progress.wakeup
        if progress.state == before or any(is_world_action(a) for a in progress.actions):
            break
    if wakeup is not None:
        actions.append(ScheduleWakeup(wakeup))
    if current != state:
        current = replace(current, updated_at=now)
    return Decision(current, tuple(actions))


def _advance(state: RolloutState, obs: Observations, now: datetime) -> Progress:
    phase = state.phase
    if phase is Phase.STARTING:
        return starting(state, obs, now)
    if phase is Phase.STEPPING:
        return stepping(state, obs, now)
    if phase is Phase.PROMOTING:
        return promoting(state, obs)
    if phase is Phase.FINALIZING:
        return finalizing(state, obs, now)
    if phase is Phase.ROLLING_BACK:
        return rolling_back(state, obs, now)
    return Progress(state)


def apply_command(state: RolloutState, command: Command, now: datetime) -> RolloutState:
    """A person's command; ignored where it has no meaning (e.g. abort after the switch)."""
    if state.phase in (Phase.DONE, Phase.ROLLING_BACK, Phase.FINALIZING):
        return state
    handler: dict[Command, Callable[[RolloutState, datetime], RolloutState]] = {
        Command.ABORT: _abort,
        Command.PROMOTE_FULL: _promote_full,
        Command.PAUSE: _pause,
        Command.RESUME: _resume,
    }
    return handler[command](state, now)


def _abort(state: RolloutState, _now: datetime) -> RolloutState:
    aborted = replace(state, abort_requested=True)
    return start_rollback(aborted, Status.ROLLED_BACK, "aborted", "aborted by user")


def _promote_full(state: RolloutState, _now: datetime) -> RolloutState:
    if state.phase is Phase.PROMOTING:
        return state
    return replace(
        state,
        step_index=len(state.plan),
        pause=None,
        status=Status.PROGRESSING,
        reason="promoted by user",
        message="skipping remaining steps",
    )


def _pause(state: RolloutState, now: datetime) -> RolloutState:
    if held(state) or state.phase is Phase.PROMOTING:
        return state
    pause = PauseInfo(now, None, PauseReason.USER)
    return replace(
        state, pause=pause, status=Status.PAUSED, reason="paused", message="paused by user"
    )


def _resume(state: RolloutState, _now: datetime) -> RolloutState:
    pause = state.pause
    if pause is None or pause.until is not None:
        return state
    resumed = replace(state, status=Status.PROGRESSING, reason="resumed", pause=None)
    if pause.reason is PauseReason.STEP and isinstance(state.current_step, Pause):
        return next_step(resumed, "resumed")
    if pause.reason is PauseReason.INCONCLUSIVE:
        return replace(resumed, analysis=None, message="resumed: restarting analysis")
    return replace(resumed, message="resumed")
