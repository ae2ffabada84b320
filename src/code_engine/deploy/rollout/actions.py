"""Actions `decide` asks for; every one is idempotent, so applying it twice is harmless.

Record actions only write to the database: the executor writes them in the same transaction
as the new state. World actions touch processes, the router or a metric provider: the
executor applies them in order after that transaction commits and stops at the first error
(the next tick re-decides from the persisted state and re-issues what is still needed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias, TypeGuard

from code_engine.deploy.rollout.model import Measurement, Status


@dataclass(frozen=True)
class StartCanary:
    """Ensure `instances` processes of `version` run (no-op when already starting or running)."""

    version: str
    instances: int


@dataclass(frozen=True)
class EnsureStable:
    """Ensure the stable version's processes run as configured for the environment."""

    version: str


@dataclass(frozen=True)
class SetWeights:
    """Set absolute router weights (percent, summing to 100 or all 0); unlisted versions get 0."""

    weights: Mapping[str, int]


@dataclass(frozen=True)
class ResetStats:
    """Zero the router's statistics of `version`, unless already done for this `token`."""

    version: str
    token: datetime


@dataclass(frozen=True)
class Measure:
    """Sample `version` over (since, until] and report it as the next tick's `sample`.

    A provider error is reported as a sample whose `error` is set, never raised to the loop.
    """

    version: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class DrainAndStop:
    """Let in-flight requests of `version` complete, then stop its processes for good."""

    version: str


@dataclass(frozen=True)
class PromoteCanaryToStable:
    """Record `version` as the environment's current release (record action)."""

    deployment_id: str
    version: str


@dataclass(frozen=True)
class RecordMeasurement:
    """Upsert a judged measurement keyed by (deployment, step, run start, index) (record action)."""

    deployment_id: str
    step_index: int
    run_started_at: datetime
    index: int
    measurement: Measurement


@dataclass(frozen=True)
class Transition:
    """The deployment status changed: write an event/notification once (record action)."""

    deployment_id: str
    status: Status
    reason: str
    message: str


@dataclass(frozen=True)
class ScheduleWakeup:
    """Tick again no later than `at` (the executor may tick earlier; it polls anyway)."""

    at: datetime


WorldAction: TypeAlias = (
    StartCanary | EnsureStable | SetWeights | ResetStats | Measure | DrainAndStop
)
RecordAction: TypeAlias = PromoteCanaryToStable | RecordMeasurement | Transition
Action: TypeAlias = WorldAction | RecordAction | ScheduleWakeup

WORLD_ACTIONS = (StartCanary, EnsureStable, SetWeights, ResetStats, Measure, DrainAndStop)
RECORD_ACTIONS = (PromoteCanaryToStable, RecordMeasurement, Transition)


def is_world_action(action: Action) -> TypeGuard[WorldAction]:
    """True for actions that touch processes, the router or a metric provider."""
    return isinstance(action, WORLD_ACTIONS)
