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
class StartFailure:
    """Why a version could not start, when it will not by trying again.

    `kind`: `crashed` (exited before it was ready), `not_ready` (never answered its health
    path in time), `cannot_start` (a full disk, no such command, no permission, ...) or
    `port_in_use`; `message` says it with the path or the last health answer.
    """

    kind: str
    message: str

    @property
    def reason(self) -> str:
        """A short reason for the deployment's status."""
        return {
            "not_ready": "canary not ready",
            "crashed": "canary crashed",
        }.get(self.kind, "canary cannot start")


@dataclass(frozen=True)
class Observations:
    """One tick's view of the world; the executor reads instances and weights every tick."""

    canary: InstanceState = InstanceState.ABSENT
    stable: InstanceState = InstanceState.ABSENT
    weights: Mapping[str, int] | None = None  # as verified at the router; None when unknown
    sample: MetricSample | None = None  # answer to the last `Measure`
    commands: tuple[Command, ...] = field(default=())
    canary_failure: StartFailure | None = None  # why the canary cannot start, if it cannot


def same_weights(observed: Mapping[str, int] | None, desired: Mapping[str, int]) -> bool:
    """True when the router routes exactly as desired; versions at 0 may be absent."""
    if observed is None:
        return False
    return {v: w for v, w in observed.items() if w} == {v: w for v, w in desired.items() if w}
