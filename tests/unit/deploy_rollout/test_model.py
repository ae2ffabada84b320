"""Validation of the rollout model, strategy plans, actions and the state codec."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from code_engine.deploy.rollout import (
    AllAtOnce,
    Analysis,
    AnalysisSpec,
    BlueGreen,
    Canary,
    DrainAndStop,
    Pause,
    RolloutSpec,
    ScheduleWakeup,
    SetWeight,
    Status,
    Transition,
    is_world_action,
    new_rollout,
    plan_of,
    state_from_dict,
    state_to_dict,
)
from code_engine.deploy.rollout.codec import step_from_dict, strategy_from_dict
from code_engine.errors import ConfigError

from .sim import T0

SPEC = AnalysisSpec()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: AnalysisSpec(interval=timedelta(0)), "interval must be positive"),
        (lambda: AnalysisSpec(count=0), "count must be at least 1"),
        (lambda: AnalysisSpec(failure_limit=-1), "must not be negative"),
        (lambda: AnalysisSpec(max_error_rate=1.5), "between 0 and 1"),
        (lambda: AnalysisSpec(max_p95_ms=0), "must be positive"),
        (lambda: SetWeight(101), "between 0 and 100"),
        (lambda: Pause(timedelta(seconds=-1)), "must not be negative"),
        (lambda: RolloutSpec(AllAtOnce(), instances=0), "at least 1"),
        (lambda: RolloutSpec(AllAtOnce(), ready_timeout=timedelta(0)), "must be positive"),
        (lambda: new_rollout("d", "v1", "v1", RolloutSpec(AllAtOnce())), "must differ"),
    ],
)
def test_invalid_model(build: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build()


def test_defaults_follow_the_slo() -> None:
    assert (SPEC.max_error_rate, SPEC.max_p95_ms) == (0.001, 200.0)
    assert (SPEC.failure_limit, SPEC.inconclusive_limit) == (0, 0)


@pytest.mark.parametrize(
    ("strategy", "plan"),
    [
        (Canary((SetWeight(10), Pause())), (SetWeight(10), Pause())),
        (BlueGreen(), ()),
        (BlueGreen(SPEC), (Analysis(SPEC),)),
        (BlueGreen(SPEC, auto_promote=False), (Analysis(SPEC), Pause(None))),
        (AllAtOnce(), ()),
    ],
)
def test_plan_of(strategy: Any, plan: tuple[Any, ...]) -> None:
    assert plan_of(strategy) == plan


def test_status_terminal() -> None:
    assert {s for s in Status if s.terminal} == {
        Status.SUCCEEDED,
        Status.FAILED,
        Status.ROLLED_BACK,
    }


def test_action_kinds() -> None:
    assert is_world_action(DrainAndStop("v1"))
    assert not is_world_action(ScheduleWakeup(T0))
    assert not is_world_action(Transition("d", Status.PAUSED, "", ""))


@pytest.mark.parametrize(
    "strategy",
    [
        Canary((SetWeight(5), Pause(timedelta(seconds=90)), Pause(None), Analysis(SPEC))),
        BlueGreen(AnalysisSpec(count=2), auto_promote=False),
        BlueGreen(),
        AllAtOnce(),
    ],
)
def test_codec_round_trip(strategy: Any) -> None:
    state = new_rollout("d", "v2", None, RolloutSpec(strategy, 3, timedelta(minutes=2)))
    assert state_from_dict(state_to_dict(state)) == state


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: step_from_dict({"wait": 1}), "unknown rollout step"),
        (lambda: strategy_from_dict({"kind": "rainbow"}), "unknown rollout strategy"),
        (lambda: state_from_dict({"format": 99}), "unsupported rollout state format"),
    ],
)
def test_codec_rejects_unknown_data(call: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()
