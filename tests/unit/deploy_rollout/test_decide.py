"""Every transition of `decide`, one table row each."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from code_engine.deploy.rollout import (
    Action,
    Analysis,
    AnalysisRun,
    AnalysisSpec,
    Canary,
    Command,
    DrainAndStop,
    EnsureStable,
    InstanceState,
    Measure,
    MetricSample,
    Observations,
    Pause,
    PauseInfo,
    PauseReason,
    Phase,
    PromoteCanaryToStable,
    RecordMeasurement,
    ResetStats,
    RolloutSpec,
    RolloutState,
    ScheduleWakeup,
    SetWeight,
    SetWeights,
    StartCanary,
    Status,
    Transition,
    Verdict,
    decide,
    evaluate,
    new_rollout,
)

from .sim import T0

S = InstanceState
MIN = timedelta(minutes=1)
SPEC = AnalysisSpec(interval=MIN, count=2, min_requests=10)
PLAN = Canary((SetWeight(20), Pause(5 * MIN), Analysis(SPEC), Pause(None)))
BASE = replace(
    new_rollout("d", "v2", "v1", RolloutSpec(PLAN)),
    status=Status.PROGRESSING,
    started_at=T0,
)
STABLE_ONLY = {"v1": 100, "v2": 0}
AT_20 = {"v1": 80, "v2": 20}
ALL_CANARY = {"v1": 0, "v2": 100}


def state(**changes: object) -> RolloutState:
    return replace(BASE, **changes)  # type: ignore[arg-type]


def stepping(step: int, weight: int = 20, **changes: object) -> RolloutState:
    return state(
        phase=Phase.STEPPING,
        step_index=step,
        current_weight=weight,
        canary_ready=True,
        canary_had_traffic=weight > 0,
        **changes,
    )


def run(measured: int = 0, pending: bool = False) -> AnalysisRun:
    from code_engine.deploy.rollout import Measurement

    good = Measurement(T0, T0 + MIN, 100, 0, 0.0, 50.0, Verdict.PASS, "ok")
    since, until = (T0 + measured * MIN, T0 + (measured + 1) * MIN) if pending else (None, None)
    return AnalysisRun(2, T0, T0 + (measured + 1) * MIN, (good,) * measured, since, until)


def sample(requests: float, errors: float = 0, p95: float = 50.0, offset: int = 0) -> MetricSample:
    return MetricSample("v2", T0 + offset * MIN, T0 + (offset + 1) * MIN, requests, errors, p95)


def record(sampled: MetricSample, index: int) -> RecordMeasurement:
    return RecordMeasurement("d", 2, T0, index, evaluate(sampled, SPEC))


def t(status: Status, reason: str, message: str) -> Transition:
    return Transition("d", status, reason, message)


@dataclass(frozen=True)
class Case:
    name: str
    state: RolloutState
    obs: Observations
    at: timedelta
    status: Status
    phase: Phase
    actions: tuple[Action, ...]
    step: int | None = None
    extra: dict[str, object] = field(default_factory=dict)


def obs(
    canary: S = S.READY,
    stable: S = S.READY,
    weights: dict[str, int] | None = None,
    sample: MetricSample | None = None,
    commands: tuple[Command, ...] = (),
) -> Observations:
    return Observations(canary, stable, weights, sample, commands)


ROLLBACK = "rolling back: "
CASES = [
    Case(
        "pending starts the canary",
        new_rollout("d", "v2", "v1", RolloutSpec(PLAN)),
        obs(S.ABSENT, weights={"v1": 100}),
        timedelta(0),
        Status.PROGRESSING,
        Phase.STARTING,
        (
            t(Status.PROGRESSING, "started", "rolling out v2"),
            StartCanary("v2", 1),
            ScheduleWakeup(T0 + 5 * MIN),
        ),
    ),
    Case(
        "starting re-issues start and fixes unknown weights",
        state(),
        obs(S.STARTING),
        MIN,
        Status.PROGRESSING,
        Phase.STARTING,
        (StartCanary("v2", 1), SetWeights(STABLE_ONLY), ScheduleWakeup(T0 + 5 * MIN)),
    ),
    Case(
        "canary crashing on start fails the rollout",
        state(),
        obs(S.CRASHED, weights=STABLE_ONLY),
        MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (DrainAndStop("v2"),),
        extra={"outcome": Status.FAILED, "reason": "canary crashed"},
    ),
    Case(
        "canary not ready by the deadline fails the rollout",
        state(),
        obs(S.STARTING, weights=STABLE_ONLY),
        5 * MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (DrainAndStop("v2"),),
        extra={"outcome": Status.FAILED, "reason": "canary not ready"},
    ),
    Case(
        "ready canary gets the first weight",
        state(),
        obs(weights=STABLE_ONLY),
        MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (SetWeights(AT_20),),
        step=0,
        extra={"canary_ready": True},
    ),
    Case(
        "verified weight enters the timed pause",
        stepping(0, weight=0),
        obs(weights=AT_20),
        MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (ScheduleWakeup(T0 + 6 * MIN),),
        step=1,
        extra={"current_weight": 20, "canary_had_traffic": True},
    ),
    Case(
        "timed pause waits",
        stepping(1, pause=PauseInfo(T0, T0 + 5 * MIN, PauseReason.STEP)),
        obs(weights=AT_20),
        MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (ScheduleWakeup(T0 + 5 * MIN),),
        step=1,
    ),
    Case(
        "elapsed pause starts the analysis",
        stepping(1, pause=PauseInfo(T0, T0 + 5 * MIN, PauseReason.STEP)),
        obs(weights=AT_20),
        5 * MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (ResetStats("v2", T0 + 5 * MIN),),
        step=2,
    ),
    Case(
        "analysis waits for its interval",
        stepping(2, analysis=run()),
        obs(weights=AT_20),
        timedelta(seconds=30),
        Status.PROGRESSING,
        Phase.STEPPING,
        (ScheduleWakeup(T0 + MIN),),
        step=2,
    ),
    Case(
        "due analysis asks for a measurement",
        stepping(2, analysis=run()),
        obs(weights=AT_20),
        MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (Measure("v2", T0, T0 + MIN),),
        step=2,
    ),
    Case(
        "unanswered measurement is asked again",
        stepping(2, analysis=run(pending=True)),
        obs(weights=AT_20),
        2 * MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (Measure("v2", T0, T0 + MIN),),
        step=2,
    ),
    Case(
        "stale sample is ignored",
        stepping(2, analysis=run(pending=True)),
        obs(weights=AT_20, sample=sample(100, offset=3)),
        2 * MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (Measure("v2", T0, T0 + MIN),),
        step=2,
    ),
    Case(
        "failing measurement rolls back, weight to stable first",
        stepping(2, analysis=run(pending=True)),
        obs(weights=AT_20, sample=sample(100, errors=5)),
        2 * MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (record(sample(100, errors=5), 0), SetWeights(STABLE_ONLY)),
        extra={"outcome": Status.ROLLED_BACK, "reason": "analysis failed"},
    ),
    Case(
        "inconclusive measurement pauses for a person",
        stepping(2, analysis=run(pending=True)),
        obs(weights=AT_20, sample=sample(3)),
        2 * MIN,
        Status.PAUSED,
        Phase.STEPPING,
        (
            record(sample(3), 0),
            t(
                Status.PAUSED,
                "inconclusive analysis",
                "1 of 1 measurements inconclusive: 3 requests, fewer than 10",
            ),
        ),
        step=2,
        extra={"reason": "inconclusive analysis"},
    ),
    Case(
        "drifted router weights are set again before anything else",
        stepping(1, pause=PauseInfo(T0, T0 + 5 * MIN, PauseReason.STEP)),
        obs(weights={"v1": 100}),
        10 * MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (SetWeights(AT_20),),
        step=1,
    ),
    Case(
        "canary crash after traffic rolls back",
        stepping(1),
        obs(S.CRASHED, weights=AT_20),
        MIN,
        Status.PROGRESSING,
        Phase.ROLLING_BACK,
        (SetWeights(STABLE_ONLY),),
        extra={"outcome": Status.ROLLED_BACK, "reason": "canary crashed"},
    ),
    Case(
        "canary gone before traffic fails",
        stepping(0, weight=0),
        obs(S.ABSENT, weights=STABLE_ONLY),
        MIN,
        Status.FAILED,
        Phase.DONE,
        (t(Status.FAILED, "canary not running", "canary v2 is absent"),),
        extra={"outcome": Status.FAILED, "canary_had_traffic": False},
    ),
    Case(
        "unready stable is restarted before routing to it",
        stepping(0, weight=0),
        obs(stable=S.CRASHED, weights=STABLE_ONLY),
        MIN,
        Status.PROGRESSING,
        Phase.STEPPING,
        (EnsureStable("v1"),),
        step=0,
    ),
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
    decision = decide(case.state, case.obs, T0 + case.at)
    new = decision.state
    assert (new.status, new.phase) == (case.status, case.phase)
    assert decision.actions == case.actions
    if case.step is not None:
        assert new.step_index == case.step
    for name, value in case.extra.items():
        assert getattr(new, name) == value, name
    if new != case.state:
        assert new.updated_at == T0 + case.at


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
    assert isinstance(datetime.now(), datetime)


def test_weights_never_go_to_an_unready_canary() -> None:
    from code_engine.deploy.rollout.phases import ensure_weights

    assert ensure_weights(stepping(0), obs(S.STARTING, weights=STABLE_ONLY), 20) == (False, ())
    assert ensure_weights(stepping(0), obs(weights=STABLE_ONLY), 20) == (
        False,
        (SetWeights(AT_20),),
    )
