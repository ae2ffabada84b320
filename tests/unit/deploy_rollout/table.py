"""Builders shared by the `decide` transition tables."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from code_engine.deploy.rollout import (
    Action,
    Analysis,
    AnalysisRun,
    AnalysisSpec,
    Canary,
    Command,
    InstanceState,
    Measurement,
    MetricSample,
    Observations,
    Pause,
    Phase,
    RecordMeasurement,
    RolloutSpec,
    RolloutState,
    SetWeight,
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


def check(case: Case) -> None:
    """Decide once and compare with the row."""
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
