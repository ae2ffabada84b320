"""What the executor saw since the last tick: instances, router weights, metrics, commands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from code_engine.deploy.rollout.analysis import MetricSample


class InstanceState(str, Enum):
    """Aggregate state of a version's processes: READY only when every instance is ready."""

    ABSENT = "absent"
    STARTING = "starting"
    READY = "ready"
    CRASHED = "crashed"
    STOPPED = "stopped"

    @property
    def stopped(self) -> bool:
        return self in (InstanceState.ABSENT, InstanceState.STOPPED)


class Command(str, Enum):
    """What a person can ask of a running rollout."""

    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"
    PROMOTE_FULL = "promote_full"


@dataclass(frozen=True)
class Observations:
    """One tick's view of the world; the executor reads instances and weights every tick."""

    canary: InstanceState = InstanceState.ABSENT
    stable: InstanceState = InstanceState.ABSENT
    weights: Mapping[str, int] | None = None  # as verified at the router; None when unknown
    sample: MetricSample | None = None  # answer to the last `Measure`
    commands: tuple[Command, ...] = field(default=())


def same_weights(observed: Mapping[str, int] | None, desired: Mapping[str, int]) -> bool:
    """True when the router routes exactly as desired; versions at 0 may be absent."""
    if observed is None:
        return False
    return {v: w for v, w in observed.items() if w} == {v: w for v, w in desired.items() if w}
