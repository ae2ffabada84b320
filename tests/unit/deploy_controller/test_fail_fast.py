"""`AnalysisSpec.fail_fast`: a window that already breaks an SLO is judged before `interval`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from code_engine.deploy.rollout import (
    Analysis,
    AnalysisRun,
    AnalysisSpec,
    Canary,
    InstanceState,
    Measure,
    MetricSample,
    Observations,
    Phase,
    RecordMeasurement,
    RolloutSpec,
    RolloutState,
    SetWeight,
    SetWeights,
    Status,
    decide,
    new_rollout,
    state_from_dict,
    state_to_dict,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
READY = InstanceState.READY
AT_20 = {"v1": 80, "v2": 20}


def analysing(fail_fast: bool = True) -> RolloutState:
    spec = AnalysisSpec(interval=MIN, count=3, min_requests=10, fail_fast=fail_fast)
    rollout = new_rollout("d", "v2", "v1", RolloutSpec(Canary((SetWeight(20), Analysis(spec)))))
    return replace(
        rollout,
        status=Status.PROGRESSING,
        phase=Phase.STEPPING,
        step_index=1,
        current_weight=20,
        canary_ready=True,
        canary_had_traffic=True,
        started_at=T0,
        analysis=AnalysisRun(1, T0, T0 + MIN),
    )


def observe(sample: MetricSample | None = None) -> Observations:
    return Observations(canary=READY, stable=READY, weights=AT_20, sample=sample)


def test_between_measurements_the_open_window_is_sampled() -> None:
    decision = decide(analysing(), observe(), T0 + timedelta(seconds=5))
    assert decision.world_actions == (Measure("v2", T0, T0 + timedelta(seconds=5)),)
    assert decision.wakeup == T0 + MIN
    assert decision.state.analysis == analysing().analysis


def test_a_window_already_failing_rolls_back_before_the_interval() -> None:
    now = T0 + timedelta(seconds=6)
    bad = MetricSample("v2", T0, T0 + timedelta(seconds=5), requests=40, errors=4, p95_ms=20)
    decision = decide(analysing(), observe(bad), now)
    assert decision.state.phase is Phase.ROLLING_BACK
    assert decision.state.reason == "analysis failed"
    [failing] = decision.state.failing_measurements
    assert failing.taken_at == T0 + timedelta(seconds=5)
    assert any(isinstance(a, RecordMeasurement) for a in decision.record_actions)
    assert decision.world_actions == (SetWeights({"v1": 100, "v2": 0}),)


def test_a_passing_or_thin_window_only_keeps_sampling() -> None:
    now = T0 + timedelta(seconds=6)
    for sample in (
        MetricSample("v2", T0, T0 + timedelta(seconds=5), requests=40, errors=0, p95_ms=20),
        MetricSample("v2", T0, T0 + timedelta(seconds=5), requests=3, errors=3, p95_ms=20),
    ):
        decision = decide(analysing(), observe(sample), now)
        assert decision.state.phase is Phase.STEPPING
        assert decision.world_actions == (Measure("v2", T0, now),)
        assert decision.record_actions == ()


def test_a_sample_of_another_window_is_ignored() -> None:
    now = T0 + timedelta(seconds=6)
    other = MetricSample("v2", T0 - MIN, T0, requests=40, errors=40, p95_ms=20)
    decision = decide(analysing(), observe(other), now)
    assert decision.state.phase is Phase.STEPPING


def test_without_fail_fast_the_interval_is_awaited() -> None:
    decision = decide(analysing(fail_fast=False), observe(), T0 + timedelta(seconds=5))
    assert decision.world_actions == ()
    assert decision.wakeup == T0 + MIN


def test_fail_fast_survives_the_codec() -> None:
    state = analysing()
    again = state_from_dict(state_to_dict(state))
    assert again == state
    data = state_to_dict(state)
    del data["spec"]["strategy"]["steps"][1]["analysis"]["fail_fast"]  # written before the flag
    step = state.plan[1]
    assert isinstance(step, Analysis)
    assert state_from_dict(data).plan[1] == Analysis(replace(step.spec, fail_fast=False))
