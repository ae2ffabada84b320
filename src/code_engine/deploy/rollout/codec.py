"""The rollout state as JSON-ready data, for storing it in one column and reading it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from code_engine.deploy.rollout.model import (
    AllAtOnce,
    Analysis,
    AnalysisRun,
    AnalysisSpec,
    BlueGreen,
    Canary,
    Measurement,
    Pause,
    PauseInfo,
    PauseReason,
    Phase,
    RolloutSpec,
    RolloutState,
    SetWeight,
    Status,
    Step,
    Strategy,
    Verdict,
    plan_of,
)
from code_engine.errors import ConfigError

FORMAT = 1
Data = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _parse_seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def spec_to_dict(spec: AnalysisSpec) -> Data:
    """An analysis spec as data; `interval` in seconds."""
    return {
        "interval": spec.interval.total_seconds(),
        "count": spec.count,
        "failure_limit": spec.failure_limit,
        "inconclusive_limit": spec.inconclusive_limit,
        "min_requests": spec.min_requests,
        "max_error_rate": spec.max_error_rate,
        "max_p95_ms": spec.max_p95_ms,
        "fail_fast": spec.fail_fast,
        "max_p99_ms": spec.max_p99_ms,
        "slow_ms": spec.slow_ms,
        "max_slow_rate": spec.max_slow_rate,
        "inconclusive_timeout": _seconds(spec.inconclusive_timeout),
    }


def spec_from_dict(data: Data) -> AnalysisSpec:
    """Inverse of `spec_to_dict`; a spec stored before a field existed gets its default."""
    fields = {**data, "interval": timedelta(seconds=data["interval"])}
    if "inconclusive_timeout" in data:
        fields["inconclusive_timeout"] = _parse_seconds(data["inconclusive_timeout"])
    return AnalysisSpec(**fields)


def step_to_dict(step: Step) -> Data:
    """A step as `{"set_weight": w}`, `{"pause": seconds|None}` or `{"analysis": spec}`."""
    if isinstance(step, SetWeight):
        return {"set_weight": step.weight}
    if isinstance(step, Pause):
        return {"pause": _seconds(step.duration)}
    return {"analysis": spec_to_dict(step.spec)}


def step_from_dict(data: Data) -> Step:
    """Inverse of `step_to_dict`."""
    if "set_weight" in data:
        return SetWeight(data["set_weight"])
    if "pause" in data:
        return Pause(_parse_seconds(data["pause"]))
    if "analysis" in data:
        return Analysis(spec_from_dict(data["analysis"]))
    raise ConfigError(f"unknown rollout step {sorted(data)}")


def strategy_to_dict(strategy: Strategy) -> Data:
    """A strategy as data tagged by `kind`."""
    if isinstance(strategy, Canary):
        return {"kind": "canary", "steps": [step_to_dict(s) for s in strategy.steps]}
    if isinstance(strategy, BlueGreen):
        preview = strategy.preview_analysis
        return {
            "kind": "blue_green",
            "preview_analysis": None if preview is None else spec_to_dict(preview),
            "auto_promote": strategy.auto_promote,
            "preview_duration": _seconds(strategy.preview_duration),
        }
    return {"kind": "all_at_once"}


def strategy_from_dict(data: Data) -> Strategy:
    """Inverse of `strategy_to_dict`."""
    kind = data.get("kind")
    if kind == "canary":
        return Canary(tuple(step_from_dict(s) for s in data["steps"]))
    if kind == "blue_green":
        preview = data.get("preview_analysis")
        return BlueGreen(
            None if preview is None else spec_from_dict(preview),
            data.get("auto_promote", True),
            _parse_seconds(data.get("preview_duration")),
        )
    if kind == "all_at_once":
        return AllAtOnce()
    raise ConfigError(f"unknown rollout strategy {kind!r}")


def measurement_to_dict(m: Measurement) -> Data:
    """A measurement as JSON-ready data."""
    return {
        "since": _time(m.since),
        "taken_at": _time(m.taken_at),
        "requests": m.requests,
        "errors": m.errors,
        "error_rate": m.error_rate,
        "p95_ms": m.p95_ms,
        "verdict": m.verdict.value,
        "reason": m.reason,
        "p99_ms": m.p99_ms,
        "slow_rate": m.slow_rate,
        "stuck": m.stuck,
        "timeouts": m.timeouts,
        "connect_errors": m.connect_errors,
    }


def _parse_measurement(d: Data) -> Measurement:
    return Measurement(
        datetime.fromisoformat(d["since"]),
        datetime.fromisoformat(d["taken_at"]),
        d["requests"],
        d["errors"],
        d["error_rate"],
        d["p95_ms"],
        Verdict(d["verdict"]),
        d["reason"],
        p99_ms=d.get("p99_ms"),
        slow_rate=d.get("slow_rate"),
        stuck=d.get("stuck", 0.0),
        timeouts=d.get("timeouts", 0.0),
        connect_errors=d.get("connect_errors", 0.0),
    )


def _run(run: AnalysisRun | None) -> Data | None:
    if run is None:
        return None
    return {
        "step_index": run.step_index,
        "started_at": _time(run.started_at),
        "next_at": _time(run.next_at),
        "measurements": [measurement_to_dict(m) for m in run.measurements],
        "pending_since": _time(run.pending_since),
        "pending_until": _time(run.pending_until),
    }


def _parse_run(d: Data | None) -> AnalysisRun | None:
    if d is None:
        return None
    return AnalysisRun(
        d["step_index"],
        datetime.fromisoformat(d["started_at"]),
        datetime.fromisoformat(d["next_at"]),
        tuple(_parse_measurement(m) for m in d["measurements"]),
        _parse_time(d["pending_since"]),
        _parse_time(d["pending_until"]),
    )


def state_to_dict(state: RolloutState) -> Data:
    """The whole rollout state as JSON-ready data."""
    pause = state.pause
    spec = state.spec
    return {
        "format": FORMAT,
        "deployment_id": state.deployment_id,
        "spec": {
            "strategy": strategy_to_dict(spec.strategy),
            "instances": spec.instances,
            "ready_timeout": spec.ready_timeout.total_seconds(),
        },
        "canary_version": state.canary_version,
        "stable_version": state.stable_version,
        "status": state.status.value,
        "phase": state.phase.value,
        "step_index": state.step_index,
        "current_weight": state.current_weight,
        "canary_ready": state.canary_ready,
        "canary_had_traffic": state.canary_had_traffic,
        "pause": None
        if pause is None
        else {
            "since": _time(pause.since),
            "until": _time(pause.until),
            "reason": pause.reason.value,
        },
        "analysis": _run(state.analysis),
        "failing_measurements": [measurement_to_dict(m) for m in state.failing_measurements],
        "outcome": None if state.outcome is None else state.outcome.value,
        "abort_requested": state.abort_requested,
        "reason": state.reason,
        "message": state.message,
        "started_at": _time(state.started_at),
        "updated_at": _time(state.updated_at),
        "finished_at": _time(state.finished_at),
    }


def state_from_dict(d: Data) -> RolloutState:
    """Inverse of `state_to_dict`."""
    if d.get("format") != FORMAT:
        raise ConfigError(f"unsupported rollout state format {d.get('format')!r}")
    s, p = d["spec"], d["pause"]
    spec = RolloutSpec(
        strategy_from_dict(s["strategy"]), s["instances"], timedelta(seconds=s["ready_timeout"])
    )
    pause = None
    if p is not None:
        pause = PauseInfo(
            datetime.fromisoformat(p["since"]), _parse_time(p["until"]), PauseReason(p["reason"])
        )
    return RolloutState(
        deployment_id=d["deployment_id"],
        spec=spec,
        canary_version=d["canary_version"],
        stable_version=d["stable_version"],
        status=Status(d["status"]),
        phase=Phase(d["phase"]),
        step_index=d["step_index"],
        current_weight=d["current_weight"],
        canary_ready=d["canary_ready"],
        canary_had_traffic=d["canary_had_traffic"],
        pause=pause,
        analysis=_parse_run(d["analysis"]),
        failing_measurements=tuple(_parse_measurement(m) for m in d["failing_measurements"]),
        outcome=None if d["outcome"] is None else Status(d["outcome"]),
        abort_requested=d["abort_requested"],
        reason=d["reason"],
        message=d["message"],
        started_at=_parse_time(d["started_at"]),
        updated_at=_parse_time(d["updated_at"]),
        finished_at=_parse_time(d["finished_at"]),
    )


@dataclass(frozen=True)
class RolloutProgress:
    """How far a rollout is: its phase, its step (0-based) of the plan, the canary's weight."""

    phase: Phase
    step_index: int
    steps: int
    weight: int


def progress_from_dict(d: Data) -> RolloutProgress:
    """The progress fields of a stored rollout state, read without the rest of it.

    A page that shows progress needs these only, so a state that holds only them (an
    imported or demo history) still shows; raises like `state_from_dict` otherwise.
    """
    if d.get("format") != FORMAT:
        raise ConfigError(f"unsupported rollout state format {d.get('format')!r}")
    plan = plan_of(strategy_from_dict(d["spec"]["strategy"]))
    return RolloutProgress(
        Phase(d["phase"]), int(d["step_index"]), len(plan), int(d["current_weight"])
    )
