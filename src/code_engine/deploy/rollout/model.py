"""Rollout domain model: strategies, steps, analysis specs, measurements and the rollout state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeAlias

from code_engine.errors import ConfigError


class Status(str, Enum):
    """Deployment status, as shown to people."""

    PENDING = "pending"
    PROGRESSING = "progressing"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"

    @property
    def terminal(self) -> bool:
        return self in (Status.SUCCEEDED, Status.FAILED, Status.ROLLED_BACK)


class Phase(str, Enum):
    """Where the controller is inside a rollout; finer than `Status`."""

    STARTING = "starting"  # canary started, waiting until it is ready
    STEPPING = "stepping"  # executing the step plan
    PROMOTING = "promoting"  # routing 100% to the canary
    FINALIZING = "finalizing"  # draining and stopping the outgoing stable version
    ROLLING_BACK = "rolling_back"  # routing 100% to stable, then stopping the canary
    DONE = "done"


class Verdict(str, Enum):
    """Outcome of one measurement."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password  # nosec B105
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class PauseReason(str, Enum):
    """Why the plan is not advancing."""

    STEP = "step"  # a `pause` step (timed, or until resumed)
    USER = "user"  # a person asked for a pause
    INCONCLUSIVE = "inconclusive"  # analysis could not decide; a person must look


@dataclass(frozen=True)
class AnalysisSpec:
    """Argo-style analysis: `count` measurements, one every `interval`, judged against SLOs."""

    interval: timedelta = timedelta(minutes=1)
    count: int = 5
    failure_limit: int = 0
    inconclusive_limit: int = 0
    min_requests: int = 100
    max_error_rate: float = 0.001
    max_p95_ms: float = 200.0
    # Between measurements, judge the open window as it grows and fail at once when it
    # already holds `min_requests` and breaks an SLO, instead of waiting for `interval`.
    fail_fast: bool = False
    # The tail: p99, and the share of requests slower than `slow_ms` (requests still in
    # flight for longer count as slow, and as failed).
    max_p99_ms: float = 1000.0
    slow_ms: float = 1000.0
    max_slow_rate: float = 0.005
    # An inconclusive pause nobody resolves rolls back after this; None waits for a person.
    inconclusive_timeout: timedelta | None = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0):
            raise ConfigError("analysis interval must be positive")
        if self.count < 1:
            raise ConfigError("analysis count must be at least 1")
        if self.failure_limit < 0 or self.inconclusive_limit < 0 or self.min_requests < 0:
            raise ConfigError("analysis limits must not be negative")
        if not 0.0 <= self.max_error_rate <= 1.0:
            raise ConfigError("max_error_rate must be between 0 and 1")
        if self.max_p95_ms <= 0 or self.max_p99_ms <= 0 or self.slow_ms <= 0:
            raise ConfigError("latency objectives must be positive")
        if not 0.0 <= self.max_slow_rate <= 1.0:
            raise ConfigError("max_slow_rate must be between 0 and 1")
        if self.inconclusive_timeout is not None and self.inconclusive_timeout <= timedelta(0):
            raise ConfigError("inconclusive_timeout must be positive")


@dataclass(frozen=True)
class SetWeight:
    """Route `weight` percent of traffic to the canary."""

    weight: int

    def __post_init__(self) -> None:
        if not 0 <= self.weight <= 100:
            raise ConfigError(f"set_weight must be between 0 and 100, got {self.weight}")


@dataclass(frozen=True)
class Pause:
    """Hold for `duration`, or until a person resumes when `duration` is None."""

    duration: timedelta | None = None

    def __post_init__(self) -> None:
        if self.duration is not None and self.duration < timedelta(0):
            raise ConfigError("pause duration must not be negative")


@dataclass(frozen=True)
class Analysis:
    """Measure the canary at its current weight and judge it."""

    spec: AnalysisSpec = field(default_factory=AnalysisSpec)


Step: TypeAlias = SetWeight | Pause | Analysis


@dataclass(frozen=True)
class Canary:
    """Shift traffic step by step; the canary reaches 100% only after the last step passes."""

    steps: tuple[Step, ...]


@dataclass(frozen=True)
class BlueGreen:
    """Start the new version beside the old one, preview it, then switch.

    While previewed the new version gets no traffic on the environment's port but all of
    its router's preview port: `preview_duration` waits, `preview_analysis` measures that
    traffic, and without `auto_promote` a person resumes the switch.
    """

    preview_analysis: AnalysisSpec | None = None
    auto_promote: bool = True
    preview_duration: timedelta | None = None

    def __post_init__(self) -> None:
        if self.preview_duration is not None and self.preview_duration < timedelta(0):
            raise ConfigError("preview duration must not be negative")


@dataclass(frozen=True)
class AllAtOnce:
    """Switch all traffic as soon as the new version is ready (for dev)."""


Strategy: TypeAlias = Canary | BlueGreen | AllAtOnce


def plan_of(strategy: Strategy) -> tuple[Step, ...]:
    """Every strategy as one step plan; promotion to 100% follows the last step."""
    if isinstance(strategy, Canary):
        return strategy.steps
    if isinstance(strategy, BlueGreen):
        steps: list[Step] = []
        if strategy.preview_duration is not None:
            steps.append(Pause(strategy.preview_duration))
        if strategy.preview_analysis is not None:
            steps.append(Analysis(strategy.preview_analysis))
        if not strategy.auto_promote:
            steps.append(Pause(None))
        return tuple(steps)
    return ()


@dataclass(frozen=True)
class RolloutSpec:
    """What to roll out and how: the strategy, canary size and the readiness deadline."""

    strategy: Strategy
    instances: int = 1
    ready_timeout: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.instances < 1:
            raise ConfigError("instances must be at least 1")
        if self.ready_timeout <= timedelta(0):
            raise ConfigError("ready_timeout must be positive")


@dataclass(frozen=True)
class Measurement:
    """One judged observation of the canary over the window (since, taken_at]."""

    since: datetime
    taken_at: datetime
    requests: float
    errors: float
    error_rate: float | None
    p95_ms: float | None
    verdict: Verdict
    reason: str
    p99_ms: float | None = None
    slow_rate: float | None = None  # share of requests slower than the tail threshold
    stuck: float = 0.0  # requests in flight longer than the tail threshold at `taken_at`
    timeouts: float = 0.0  # answered 504 by the router: the instance did not answer in time
    connect_errors: float = 0.0  # the router could not connect, or the instance hung up


@dataclass(frozen=True)
class PauseInfo:
    """Why and since when the plan is held; `until` is None when only a resume releases it."""

    since: datetime
    until: datetime | None
    reason: PauseReason


@dataclass(frozen=True)
class AnalysisRun:
    """Progress of the analysis of one `analysis` step."""

    step_index: int
    started_at: datetime
    next_at: datetime
    measurements: tuple[Measurement, ...] = ()
    pending_since: datetime | None = None  # window of a requested, not yet judged, measurement
    pending_until: datetime | None = None

    def count(self, verdict: Verdict) -> int:
        return sum(1 for m in self.measurements if m.verdict is verdict)

    @property
    def successes(self) -> int:
        return self.count(Verdict.PASS)

    @property
    def failures(self) -> int:
        return self.count(Verdict.FAIL)

    @property
    def inconclusives(self) -> int:
        return self.count(Verdict.INCONCLUSIVE)


@dataclass(frozen=True)
class RolloutState:
    """Everything the controller knows about one rollout; persisted after every decision."""

    deployment_id: str
    spec: RolloutSpec
    canary_version: str
    stable_version: str | None
    status: Status = Status.PENDING
    phase: Phase = Phase.STARTING
    step_index: int = 0
    current_weight: int = 0  # canary weight last verified at the router
    canary_ready: bool = False  # the canary has been seen ready
    canary_had_traffic: bool = False  # a weight > 0 toward the canary was verified
    pause: PauseInfo | None = None
    analysis: AnalysisRun | None = None
    failing_measurements: tuple[Measurement, ...] = ()
    outcome: Status | None = None  # the terminal status a rollback will end in
    abort_requested: bool = False
    reason: str = ""
    message: str = ""
    started_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.stable_version == self.canary_version:
            raise ConfigError("the canary version must differ from the stable version")

    @property
    def plan(self) -> tuple[Step, ...]:
        return plan_of(self.spec.strategy)

    @property
    def current_step(self) -> Step | None:
        plan = self.plan
        return plan[self.step_index] if self.step_index < len(plan) else None

    @property
    def preview_version(self) -> str | None:
        """The version the router's preview port serves: a blue-green rollout's new
        version from the moment it is ready until the switch, an abort or a rollback."""
        if isinstance(self.spec.strategy, BlueGreen) and self.phase is Phase.STEPPING:
            return self.canary_version
        return None


def new_rollout(
    deployment_id: str, canary_version: str, stable_version: str | None, spec: RolloutSpec
) -> RolloutState:
    """A rollout that has not started; the first `decide` starts it."""
    return RolloutState(deployment_id, spec, canary_version, stable_version)
