"""`decide` for people's commands, promotion, finalizing and rollback: one row each."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from code_engine.deploy.rollout import (
    Command,
    DrainAndStop,
    EnsureStable,
    PauseInfo,
    PauseReason,
    Phase,
    PromoteCanaryToStable,
    RecordMeasurement,
    ResetStats,
    RolloutSpec,
    ScheduleWakeup,
    SetWeights,
    Status,
    Verdict,
    decide,
    new_rollout,
)
from code_engine.deploy.rollout.phases import ensure_weights

from .sim import T0
from .table import (
    ALL_CANARY,
    AT_20,
    MIN,
    PLAN,
    ROLLBACK,
    STABLE_ONLY,
    Case,
    S,
    check,
    obs,
    run,
    sample,
    state,
    stepping,
    t,
)

CASES = [
    Case(
        "user pause holds the plan but keeps weights",
        stepping(1, pause=PauseInfo(T0, T0 + 5 * MIN, PauseReason.STEP)),
        obs(weights={"v1": 100}, commands=(Command.PAUSE,)),
        MIN,
        Status.PAUSED,
        Phase.STEPPING,
        (t(Status.PAUSED, "paused", "paused by user"), SetWeights(AT_20)),
        step=1,
    ),
    Case(
        "user pause at a weight step keeps the old weight",
        stepping(0, weight=0),
        obs(weights=STABLE_ONLY, commands=(Command.PAUSE,)),
        MIN,
        Status.PAUSED,
        Phase.STEPPING,
        (t(Status.PAUSED, "paused", "paused by user"),),
        step=0,
    ),
    Case(
        "resume after a user pause restarts a timed pause",
        stepping(1, pause=PauseInfo(T0, None, PauseReason.USER), status=Status.PAUSED),
        obs(weights=AT_20, commands=(Command.RESUME,)),
        MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (t(Status.PROGRESSING, "resumed", "resumed"), ScheduleWakeup(T0 + 6 * MIN)),
        step=1,
    ),
    Case(
        "resume after inconclusive restarts the analysis",
        stepping(
            2,
            analysis=run(1),
            pause=PauseInfo(T0, None, PauseReason.INCONCLUSIVE),
            status=Status.PAUSED,
        ),
        obs(weights=AT_20, commands=(Command.RESUME,)),
        3 * MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (
            t(Status.PROGRESSING, "resumed", "resumed: restarting analysis"),
            ResetStats("v2", T0 + 3 * MIN),
        ),
        step=2,
    ),
    Case(
        "resume of an open pause step promotes after the last step",
        stepping(3, pause=PauseInfo(T0, None, PauseReason.STEP), status=Status.PAUSED),
        obs(weights=AT_20, commands=(Command.RESUME,)),
        MIN,
        Status.PROGRESSING,
        Phase.PROMOTING,
        (t(Status.PROGRESSING, "resumed", "resumed"), SetWeights(ALL_CANARY)),
    ),
    Case(
        "resume when not paused does nothing",
        stepping(2, analysis=run()),
        obs(weights=AT_20, commands=(Command.RESUME,)),
        timedelta(seconds=1),
        Status.PROGRESSING,
        Phase.STEPPING,
        (ScheduleWakeup(T0 + MIN),),
        step=2,
    ),
    Case(
        "promote-full skips the remaining steps",
        stepping(1, pause=PauseInfo(T0, T0 + 5 * MIN, PauseReason.STEP)),
        obs(weights=AT_20, commands=(Command.PROMOTE_FULL,)),
        MIN,
        Status.PROGRESSING,
        Phase.PROMOTING,
        (SetWeights(ALL_CANARY),),
    ),
    Case(
        "abort rolls back",
        stepping(1, status=Status.PAUSED, pause=PauseInfo(T0, None, PauseReason.USER)),
        obs(weights=AT_20, commands=(Command.ABORT,)),
        MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (
            t(Status.PROGRESSING, "aborted", ROLLBACK + "aborted by user"),
            SetWeights(STABLE_ONLY),
        ),
        extra={"abort_requested": True, "outcome": Status.ROLLED_BACK},
    ),
    Case(
        "verified promotion drains stable",
        state(phase=Phase.PROMOTING, canary_ready=True),
        obs(weights=ALL_CANARY),
        MIN,
        Status.PROGRESSING,
        Phase.FINALIZING,
        (DrainAndStop("v1"),),
        extra={"current_weight": 100},
    ),
    Case(
        "canary crash while promoting rolls back",
        state(phase=Phase.PROMOTING, canary_ready=True, canary_had_traffic=True),
        obs(S.CRASHED, weights=AT_20),
        MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (SetWeights(STABLE_ONLY),),
    ),
    Case(
        "abort after the switch is ignored",
        state(phase=Phase.FINALIZING, current_weight=100),
        obs(stable=S.STOPPED, weights=ALL_CANARY, commands=(Command.ABORT,)),
        MIN,
        Status.SUCCEEDED,
        Phase.DONE,
        (
            PromoteCanaryToStable("d", "v2"),
            t(Status.SUCCEEDED, "promoted", "v2 serves 100%"),
        ),
    ),
    Case(
        "finalizing re-sets drifted weights before stopping stable",
        state(phase=Phase.FINALIZING, current_weight=100),
        obs(weights=AT_20),
        MIN,
        Status.PROGRESSING,
        Phase.FINALIZING,
        (SetWeights(ALL_CANARY),),
    ),
    Case(
        "canary crash while stable still serves rolls back",
        state(phase=Phase.FINALIZING, current_weight=100, canary_had_traffic=True),
        obs(S.CRASHED, weights=ALL_CANARY),
        MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (SetWeights(STABLE_ONLY),),
    ),
    Case(
        "nothing ready while finalizing restarts stable to roll back",
        state(phase=Phase.FINALIZING, current_weight=100, canary_had_traffic=True),
        obs(S.CRASHED, S.CRASHED, weights=ALL_CANARY),
        MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (EnsureStable("v1"),),
    ),
    Case(
        "rollback waits for stable before routing to it",
        state(phase=Phase.ROLLING_BACK, outcome=Status.ROLLED_BACK),
        obs(stable=S.STARTING, weights=AT_20),
        MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (EnsureStable("v1"),),
    ),
    Case(
        "rollback ends once the canary is stopped",
        state(phase=Phase.ROLLING_BACK, outcome=Status.ROLLED_BACK, reason="aborted"),
        obs(S.STOPPED, weights=STABLE_ONLY),
        MIN,
        Status.ROLLED_BACK,
        Phase.DONE,
        (t(Status.ROLLED_BACK, "aborted", ""),),
        extra={"finished_at": T0 + MIN},
    ),
    Case(
        "pause while promoting is ignored",
        state(phase=Phase.PROMOTING, canary_ready=True),
        obs(weights=AT_20, commands=(Command.PAUSE, Command.PROMOTE_FULL)),
        MIN,
        Status.PROGRESSING,
        Phase.PROMOTING,
        (SetWeights(ALL_CANARY),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case) -> None:
    check(case)


def test_terminal_state_is_left_alone() -> None:
    done = state(status=Status.SUCCEEDED, phase=Phase.DONE)
    decision = decide(done, obs(commands=(Command.ABORT,)), T0)
    assert decision == type(decision)(done, ())


def test_failing_measurements_are_kept() -> None:
    decision = decide(
        stepping(2, analysis=run(1, pending=True)),
        obs(weights=AT_20, sample=sample(100, errors=5, offset=1)),
        T0 + 3 * MIN,
    )
    failing = decision.state.failing_measurements
    assert [m.verdict for m in failing] == [Verdict.FAIL]
    assert failing[0].error_rate == pytest.approx(0.05)
    records = [a for a in decision.actions if isinstance(a, RecordMeasurement)]
    assert [(r.index, r.measurement) for r in records] == [(1, failing[0])]
    assert decision.record_actions == tuple(records)


def test_passing_run_moves_to_the_next_step() -> None:
    decision = decide(
        stepping(2, analysis=run(1, pending=True)),
        obs(weights=AT_20, sample=sample(100, offset=1)),
        T0 + 2 * MIN,
    )
    assert decision.state.step_index == 3
    assert decision.state.status is Status.PAUSED
    assert decision.state.analysis is not None and decision.state.analysis.successes == 2


def test_first_deployment_routes_all_or_nothing() -> None:
    first = replace(
        new_rollout("d", "v2", None, RolloutSpec(PLAN)),
        status=Status.PROGRESSING,
        phase=Phase.STEPPING,
        canary_ready=True,
    )
    decision = decide(first, obs(stable=S.ABSENT, weights={}), T0)
    assert decision.actions == (SetWeights({"v2": 100}),)
    assert decision.world_actions == decision.actions and decision.wakeup is None


def test_wakeup_is_exposed() -> None:
    decision = decide(stepping(2, analysis=run()), obs(weights=AT_20), T0)
    assert decision.wakeup == T0 + MIN


def test_weights_never_go_to_an_unready_canary() -> None:
    assert ensure_weights(stepping(0), obs(S.STARTING, weights=STABLE_ONLY), 20) == (False, ())
    assert ensure_weights(stepping(0), obs(weights=STABLE_ONLY), 20) == (
        False,
        (SetWeights(AT_20),),
    )
