"""The stepping phase: `set_weight`, `pause` and `analysis` steps of the plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from code_engine.deploy.rollout.actions import Measure, RecordMeasurement, ResetStats
from code_engine.deploy.rollout.analysis import MetricSample, evaluate
from code_engine.deploy.rollout.model import (
    Analysis,
    AnalysisRun,
    AnalysisSpec,
    Measurement,
    Pause,
    PauseInfo,
    PauseReason,
    Phase,
    RolloutState,
    SetWeight,
    Status,
    Step,
    Verdict,
)
from code_engine.deploy.rollout.observations import InstanceState, Observations
from code_engine.deploy.rollout.phases import Progress, canary_lost, ensure_weights, start_rollback


def held(state: RolloutState) -> bool:
    """True while only a person (resume, promote or abort) can move the plan on."""
    return state.pause is not None and state.pause.until is None


def next_step(state: RolloutState, message: str) -> RolloutState:
    """Move to the following step, leaving any pause behind."""
    return replace(state, step_index=state.step_index + 1, pause=None, message=message)


def stepping(state: RolloutState, obs: Observations, now: datetime) -> Progress:
    """Keep the router at the step's weight, then run the current step."""
    if obs.canary is not InstanceState.READY:
        return Progress(canary_lost(state, obs))
    step = state.current_step
    if step is None:
        return Progress(replace(state, phase=Phase.PROMOTING, message="promoting to 100%"))
    target = (
        step.weight if isinstance(step, SetWeight) and not held(state) else state.current_weight
    )
    verified, actions = ensure_weights(state, obs, target)
    if not verified:
        return Progress(state, actions)
    if held(state):
        return _held(state, step, obs, now)
    if isinstance(step, SetWeight):
        moved = replace(
            state,
            current_weight=target,
            canary_had_traffic=state.canary_had_traffic or target > 0,
        )
        return Progress(next_step(moved, f"canary at {target}%"))
    if isinstance(step, Pause):
        return pausing(state, step, now)
    return analysing(state, step, obs, now)


def _held(state: RolloutState, step: Step, obs: Observations, now: datetime) -> Progress:
    """Held for a person. After an inconclusive analysis the canary keeps being watched:
    it is rolled back as soon as its traffic fails, or when nobody decided in time."""
    pause = state.pause
    run = state.analysis
    inconclusive = pause is not None and pause.reason is PauseReason.INCONCLUSIVE
    if not inconclusive or pause is None or run is None or not isinstance(step, Analysis):
        return Progress(state)
    spec = step.spec
    deadline = None
    if spec.inconclusive_timeout is not None:
        deadline = pause.since + spec.inconclusive_timeout
        if now >= deadline:
            message = (
                f"analysis inconclusive and nobody resumed or aborted within "
                f"{_duration(spec.inconclusive_timeout)}"
            )
            return Progress(
                start_rollback(
                    state, Status.ROLLED_BACK, "inconclusive analysis timed out", message
                )
            )
    version = state.canary_version
    since = run.measurements[-1].taken_at if run.measurements else run.started_at
    sample = obs.sample
    if sample is not None and (sample.version, sample.since) == (version, since):
        if since < sample.until <= now:
            measurement = evaluate(sample, spec)
            if measurement.verdict is Verdict.FAIL:
                return _fail_while_held(state, run, measurement)
    if now <= since:
        return Progress(state, wakeup=deadline)
    return Progress(state, (Measure(version, since, now),), deadline)


def _fail_while_held(state: RolloutState, run: AnalysisRun, measurement: Measurement) -> Progress:
    """The paused canary's traffic fails: record it and roll back at once."""
    index = len(run.measurements)
    run = replace(run, measurements=(*run.measurements, measurement))
    record = RecordMeasurement(
        state.deployment_id, run.step_index, run.started_at, index, measurement
    )
    failing = (*state.failing_measurements, measurement)
    failed = replace(state, analysis=run, failing_measurements=failing)
    message = f"failing while paused: {measurement.reason}"
    return Progress(
        start_rollback(failed, Status.ROLLED_BACK, "analysis failed", message), (record,)
    )


def traffic_needed(state: RolloutState, spec: AnalysisSpec) -> str:
    """What an analysis needs to decide, and what happens without it, for a pause message."""
    seconds = spec.interval.total_seconds()
    share = state.current_weight / 100 if state.current_weight > 0 else 1.0
    rate = spec.min_requests / seconds / share
    where = f"at {state.current_weight}%" if state.current_weight > 0 else "on the preview port"
    text = (
        f"each measurement needs {spec.min_requests} requests to {state.canary_version} "
        f"within {_duration(spec.interval)}, about {rate:.1f} requests/s {where}; "
        "send traffic (e.g. codectl load) and resume, or abort"
    )
    if spec.inconclusive_timeout is not None:
        text += f"; unattended, it rolls back after {_duration(spec.inconclusive_timeout)}"
    return text


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 60 or not seconds:
        return f"{value.total_seconds():g} s"
    return f"{seconds // 60} min"


def pausing(state: RolloutState, step: Pause, now: datetime) -> Progress:
    """A timed pause waits for its deadline; an open one holds until resumed."""
    if state.pause is None:
        if step.duration is None:
            pause = PauseInfo(now, None, PauseReason.STEP)
            message = f"paused at step {state.step_index + 1} until resumed"
            return Progress(
                replace(state, pause=pause, status=Status.PAUSED, reason="paused", message=message)
            )
        until = now + step.duration
        pause = PauseInfo(now, until, PauseReason.STEP)
        return Progress(replace(state, pause=pause, message=f"pausing until {until.isoformat()}"))
    deadline = state.pause.until
    if deadline is not None and now >= deadline:
        return Progress(next_step(state, "pause over"))
    return Progress(state, wakeup=deadline)


def analysing(state: RolloutState, step: Analysis, obs: Observations, now: datetime) -> Progress:
    """Take a measurement every `interval`, `count` times, and judge the run as it goes."""
    spec = step.spec
    run = state.analysis
    version = state.canary_version
    if run is None or run.step_index != state.step_index:
        run = AnalysisRun(state.step_index, now, now + spec.interval)
        message = f"analysing {version}: 0/{spec.count} measurements"
        return Progress(replace(state, analysis=run, message=message), (ResetStats(version, now),))
    if run.pending_since is not None and run.pending_until is not None:
        sample = _answer(obs.sample, version, run.pending_since, run.pending_until)
        if sample is not None:
            return _judge(state, run, spec, evaluate(sample, spec), now)
        return Progress(state, (Measure(version, run.pending_since, run.pending_until),))
    since = run.measurements[-1].taken_at if run.measurements else run.started_at
    if now < run.next_at:
        return _probe(state, run, spec, obs, since, now)
    pending = replace(run, pending_since=since, pending_until=now)
    return Progress(replace(state, analysis=pending), (Measure(version, since, now),))


def _probe(
    state: RolloutState,
    run: AnalysisRun,
    spec: AnalysisSpec,
    obs: Observations,
    since: datetime,
    now: datetime,
) -> Progress:
    """With `fail_fast`, sample the open window every tick; only a failing one is judged."""
    if not spec.fail_fast or now <= since:
        return Progress(state, wakeup=run.next_at)
    sample = obs.sample
    version = state.canary_version
    if sample is not None and (sample.version, sample.since) == (version, since):
        if since < sample.until <= now:
            measurement = evaluate(sample, spec)
            if measurement.verdict is Verdict.FAIL:
                return _judge(state, run, spec, measurement, now)
    return Progress(state, (Measure(version, since, now),), run.next_at)


def _answer(
    sample: MetricSample | None, version: str, since: datetime, until: datetime
) -> MetricSample | None:
    """The sample if it answers the pending request; a stale or foreign one is ignored."""
    if sample is None or (sample.version, sample.since, sample.until) != (version, since, until):
        return None
    return sample


def _judge(
    state: RolloutState,
    run: AnalysisRun,
    spec: AnalysisSpec,
    measurement: Measurement,
    now: datetime,
) -> Progress:
    """Record a measurement, then fail, hold or pass the run by Argo's limits."""
    index = len(run.measurements)
    run = replace(
        run,
        measurements=(*run.measurements, measurement),
        pending_since=None,
        pending_until=None,
        next_at=measurement.taken_at + spec.interval,
    )
    record = RecordMeasurement(
        state.deployment_id, run.step_index, run.started_at, index, measurement
    )
    state = replace(state, analysis=run)
    done = len(run.measurements)
    if run.failures > spec.failure_limit:
        failing = tuple(m for m in run.measurements if m.verdict is Verdict.FAIL)
        message = f"{run.failures} of {done} measurements failed: {measurement.reason}"
        state = replace(state, failing_measurements=failing)
        return Progress(
            start_rollback(state, Status.ROLLED_BACK, "analysis failed", message), (record,)
        )
    if run.inconclusives > spec.inconclusive_limit:
        pause = PauseInfo(now, None, PauseReason.INCONCLUSIVE)
        message = (
            f"{run.inconclusives} of {done} measurements inconclusive: {measurement.reason}; "
            f"{traffic_needed(state, spec)}"
        )
        paused = replace(
            state,
            pause=pause,
            status=Status.PAUSED,
            reason="inconclusive analysis",
            message=message,
        )
        return Progress(paused, (record,))
    if done >= spec.count:
        return Progress(next_step(state, f"analysis passed ({run.successes}/{done})"), (record,))
    message = f"analysing {state.canary_version}: {done}/{spec.count} measurements"
    return Progress(replace(state, message=message), (record,), run.next_at)
