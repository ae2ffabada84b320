"""Whole rollouts driven through the simulated world, including crashes of the controller."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from code_engine.deploy.rollout import (
    AllAtOnce,
    Analysis,
    AnalysisSpec,
    BlueGreen,
    Canary,
    Command,
    DrainAndStop,
    InstanceState,
    MetricSample,
    Pause,
    PromoteCanaryToStable,
    RolloutSpec,
    SetWeight,
    SetWeights,
    Status,
    Transition,
    Verdict,
)

from .sim import T0, Metrics, Run, World, command_at, drive, resume_when_paused, rollout, steady

MIN = timedelta(minutes=1)
SPEC = AnalysisSpec(interval=MIN, count=3)
CANARY = RolloutSpec(
    Canary((SetWeight(20), Analysis(SPEC), SetWeight(50), Pause(5 * MIN), Analysis(SPEC)))
)


def simulate(spec: RolloutSpec = CANARY, metrics: Metrics | None = None, **kwargs: object) -> Run:
    world = World("v2", "v1", metrics=metrics or steady())
    return drive(rollout(spec), world, **kwargs)  # type: ignore[arg-type]


def world_weights(run: Run) -> list[dict[str, int]]:
    return [dict(a.weights) for a in run.world.applied if isinstance(a, SetWeights)]


def statuses(run: Run) -> list[Status]:
    return [a.status for d in run.decisions for a in d.actions if isinstance(a, Transition)]


def switch_at(when: datetime, before: Metrics, after: Metrics) -> Metrics:
    def sample(version: str, since: datetime, until: datetime) -> MetricSample:
        return (after if since >= when else before)(version, since, until)

    return sample


def test_healthy_canary_succeeds_and_stable_is_drained_last() -> None:
    run = simulate()
    assert run.status is Status.SUCCEEDED
    assert run.world.violations == []
    assert world_weights(run) == [
        {"v1": 80, "v2": 20},
        {"v1": 50, "v2": 50},
        {"v1": 0, "v2": 100},
    ]
    assert run.world.applied[-1] == DrainAndStop("v1")
    assert run.world.instances == {"v1": InstanceState.STOPPED, "v2": InstanceState.READY}
    assert statuses(run) == [Status.PROGRESSING, Status.SUCCEEDED]
    assert PromoteCanaryToStable("dep-1", "v2") in run.decisions[-1].actions
    assert len(run.world.resets) == 2
    assert run.state.finished_at == run.world.now


@pytest.mark.parametrize(
    ("metrics", "reason"),
    [(steady(error_rate=0.05), "error rate 5.00%"), (steady(p95_ms=450.0), "p95 450 ms")],
    ids=["errors", "latency"],
)
def test_breached_slo_rolls_back(metrics: Metrics, reason: str) -> None:
    run = simulate(metrics=metrics)
    assert run.status is Status.ROLLED_BACK
    assert run.state.reason == "analysis failed"
    assert reason in run.state.message
    [failing] = run.state.failing_measurements
    assert failing.verdict is Verdict.FAIL and reason in failing.reason
    assert run.world.violations == []
    assert world_weights(run)[-1] == {"v1": 100, "v2": 0}
    assert run.world.applied[-1] == DrainAndStop("v2")
    assert run.world.instances["v2"] is InstanceState.STOPPED


def test_errors_showing_up_later_roll_back_from_the_second_analysis() -> None:
    bad_later = switch_at(T0 + 6 * MIN, steady(), steady(error_rate=0.02))
    run = simulate(metrics=bad_later)
    assert run.status is Status.ROLLED_BACK
    assert {"v1": 50, "v2": 50} in world_weights(run)


def test_low_traffic_is_inconclusive_and_pauses() -> None:
    waits = AnalysisSpec(interval=MIN, count=3, inconclusive_timeout=None)
    run = simulate(RolloutSpec(Canary((SetWeight(20), Analysis(waits)))), steady(rps=0.5))
    assert run.status is Status.PAUSED
    assert run.state.reason == "inconclusive analysis"
    assert "about 8.3 requests/s at 20%" in run.state.message
    assert run.state.analysis is not None and run.state.analysis.inconclusives == 1
    assert run.world.weights == {"v1": 80, "v2": 20}


def test_an_unattended_inconclusive_pause_rolls_back_at_its_timeout() -> None:
    run = simulate(metrics=steady(rps=0.5))
    assert run.status is Status.ROLLED_BACK
    assert run.state.reason == "inconclusive analysis timed out"
    paused_at = next(d.state.updated_at for d in run.decisions if d.state.status is Status.PAUSED)
    assert paused_at is not None and run.state.finished_at is not None
    assert timedelta(minutes=10) <= run.state.finished_at - paused_at < timedelta(minutes=11)
    assert world_weights(run)[-1] == {"v1": 100, "v2": 0}
    assert run.world.violations == []


def hanging(rps: float = 0.5, stuck: float = 2.0) -> Metrics:
    """Few requests, none answered: some of them are held in flight for seconds."""

    def sample(version: str, since: datetime, until: datetime) -> MetricSample:
        ages = ((1.0, 0.0), (5.0, stuck), (float("inf"), stuck))
        return MetricSample(version, since, until, 0.0, 0.0, None, in_flight_buckets=ages)

    return sample


def test_a_canary_that_hangs_every_request_fails_instead_of_pausing() -> None:
    run = simulate(metrics=hanging())
    assert run.status is Status.ROLLED_BACK
    assert run.state.reason == "analysis failed"
    [failing] = run.state.failing_measurements
    assert failing.verdict is Verdict.FAIL and failing.stuck == 2.0
    assert "no request answered" in failing.reason
    assert world_weights(run)[-1] == {"v1": 100, "v2": 0}


def test_a_paused_canary_whose_traffic_starts_failing_is_rolled_back_at_once() -> None:
    quiet, hung = steady(rps=0.5), hanging()

    def lonely(version: str, since: datetime, until: datetime) -> MetricSample:
        return (hung if until >= T0 + 2 * MIN else quiet)(version, since, until)

    waits = AnalysisSpec(interval=MIN, count=3, inconclusive_timeout=None)
    run = simulate(RolloutSpec(Canary((SetWeight(20), Analysis(waits)))), lonely)
    assert run.status is Status.ROLLED_BACK
    assert Status.PAUSED in statuses(run)
    assert run.state.message.startswith("failing while paused: no request answered")
    assert run.state.finished_at is not None and run.state.finished_at < T0 + 5 * MIN
    assert world_weights(run)[-1] == {"v1": 100, "v2": 0}


def test_resume_after_inconclusive_continues() -> None:
    busier = switch_at(T0 + MIN, steady(rps=0.5), steady())
    run = simulate(metrics=busier, script=resume_when_paused())
    assert run.status is Status.SUCCEEDED
    assert statuses(run) == [
        Status.PROGRESSING,
        Status.PAUSED,
        Status.PROGRESSING,
        Status.SUCCEEDED,
    ]


def test_abort_rolls_back() -> None:
    run = simulate(script=command_at(T0 + 7 * MIN, Command.ABORT))
    assert run.status is Status.ROLLED_BACK
    assert run.state.reason == "aborted" and run.state.abort_requested
    assert run.world.violations == []
    assert world_weights(run)[-1] == {"v1": 100, "v2": 0}


def test_user_pause_then_resume() -> None:
    pause = command_at(T0 + 2 * MIN, Command.PAUSE)
    resume = command_at(T0 + 2 * MIN, Command.RESUME)

    def script(state, world):  # type: ignore[no-untyped-def]
        return pause(state, world) or resume(state, world)

    run = simulate(script=script)
    assert run.status is Status.SUCCEEDED
    assert Status.PAUSED in statuses(run)


def test_promote_full_skips_the_plan() -> None:
    run = simulate(script=command_at(T0 + 2 * MIN, Command.PROMOTE_FULL))
    assert run.status is Status.SUCCEEDED
    assert {"v1": 50, "v2": 50} not in world_weights(run)


def test_canary_that_never_gets_ready_fails() -> None:
    world = World("v2", "v1", start_delay=None)
    run = drive(rollout(CANARY), world)
    assert run.status is Status.FAILED
    assert run.state.reason == "canary not ready"
    assert run.world.weights == {"v1": 100}
    assert run.world.instances["v2"] is InstanceState.STOPPED


def test_canary_crashing_on_start_fails() -> None:
    run = drive(rollout(CANARY), World("v2", "v1", crash_on_start=True))
    assert (run.status, run.state.reason) == (Status.FAILED, "canary crashed")


def test_canary_crashing_under_traffic_rolls_back() -> None:
    run = simulate(world_events={20: lambda w: w.crash("v2")})
    assert (run.status, run.state.reason) == (Status.ROLLED_BACK, "canary crashed")
    assert run.world.violations == []
    assert run.world.weights == {"v1": 100, "v2": 0}


def test_router_losing_its_weights_is_corrected() -> None:
    def forget(world: World) -> None:
        world.weights = None

    run = simulate(world_events={12: forget})
    assert run.status is Status.SUCCEEDED
    assert world_weights(run).count({"v1": 80, "v2": 20}) == 2


def test_blue_green_previews_then_switches() -> None:
    spec = RolloutSpec(BlueGreen(preview_analysis=AnalysisSpec(interval=MIN, count=2)))
    run = simulate(spec)
    assert run.status is Status.SUCCEEDED
    assert world_weights(run) == [{"v1": 0, "v2": 100}]
    assert run.world.applied[-1] == DrainAndStop("v1")


def test_blue_green_preview_failure_rolls_back() -> None:
    spec = RolloutSpec(BlueGreen(preview_analysis=AnalysisSpec(interval=MIN, count=2)))
    run = simulate(spec, metrics=steady(error_rate=0.5))
    assert run.status is Status.ROLLED_BACK
    assert world_weights(run) == []  # the preview never had production traffic
    assert run.world.applied[-1] == DrainAndStop("v2")


def test_blue_green_without_auto_promote_waits_for_a_person() -> None:
    spec = RolloutSpec(BlueGreen(auto_promote=False))
    assert simulate(spec).status is Status.PAUSED
    run = simulate(spec, script=resume_when_paused())
    assert run.status is Status.SUCCEEDED


def test_all_at_once() -> None:
    run = simulate(RolloutSpec(AllAtOnce()))
    assert run.status is Status.SUCCEEDED
    assert world_weights(run) == [{"v1": 0, "v2": 100}]


def test_first_deployment_without_stable() -> None:
    world = World("v2", None)
    run = drive(rollout(CANARY, stable=None), world)
    assert run.status is Status.SUCCEEDED
    assert world.weights == {"v2": 100}
    assert not any(isinstance(a, DrainAndStop) for a in world.applied)


def test_first_deployment_rollback_leaves_no_traffic() -> None:
    world = World("v2", None, metrics=steady(error_rate=1.0))
    run = drive(rollout(CANARY, stable=None), world)
    assert run.status is Status.ROLLED_BACK
    assert world.weights == {"v2": 0}
    assert world.violations == []


SCENARIOS = {
    "healthy": (CANARY, steady(), None),
    "errors": (CANARY, steady(error_rate=0.05), None),
    "inconclusive": (CANARY, steady(rps=0.5), None),
    "resumed": (CANARY, switch_at(T0 + MIN, steady(rps=0.5), steady()), resume_when_paused),
    "blue-green": (
        RolloutSpec(BlueGreen(AnalysisSpec(interval=MIN, count=2), False)),
        steady(),
        resume_when_paused,
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_crash_at_every_tick_reaches_the_same_outcome(name: str) -> None:
    spec, metrics, script = SCENARIOS[name]

    def once(crashes: dict[int, int] | None) -> Run:
        return simulate(spec, metrics, script=script() if script else None, crashes=crashes)

    baseline = once(None)
    expected = (baseline.status, baseline.state.reason, len(baseline.state.failing_measurements))
    for tick, decision in enumerate(baseline.decisions):
        for applied in {0, len(decision.world_actions) // 2}:
            run = once({tick: applied})
            got = (run.status, run.state.reason, len(run.state.failing_measurements))
            assert got == expected, f"crash at tick {tick} after {applied} actions"
            assert run.world.violations == []
            assert run.world.weights == baseline.world.weights
