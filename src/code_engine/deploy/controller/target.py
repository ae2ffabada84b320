"""Where the versions of one service environment run, as the controller drives them.

A `Target` starts, stops and weighs versions, reports their health, the traffic each gets
and what went wrong, and finds what runs there that no deployment owns. The controller
speaks only to this interface: the local target (supervised processes behind a router) is
one implementation, an in-memory fake (`code_engine.testing`) another, and a target that
drives a cluster plugs in the same way — one `TARGETS` entry, chosen by the environment's
target kind.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from code_engine.deploy.plan import Launch, RouterPlan
from code_engine.deploy.rollout import InstanceState, MetricSample, StartFailure


@dataclass(frozen=True)
class Observed:
    """One look at a target: the health of the versions asked about, the weights it
    applies (None when it cannot say now), and the last start failure of each version."""

    health: Mapping[str, InstanceState]
    weights: Mapping[str, int] | None
    errors: Mapping[str, str] = field(default_factory=dict)
    # versions that cannot start, when trying again will not help (a full disk, no command)
    failures: Mapping[str, StartFailure] = field(default_factory=dict)

    def of(self, version: str | None) -> InstanceState:
        if version is None:
            return InstanceState.ABSENT
        return self.health.get(version, InstanceState.ABSENT)


@dataclass(frozen=True)
class Reconciled:
    """What a reconciliation removed: versions whose instances were stopped (orphans), and
    versions whose router entries were dropped (weight-0 leftovers of a rollout, mostly)."""

    stopped: tuple[str, ...] = ()
    unrouted: tuple[str, ...] = ()


class Target(Protocol):
    """The versions of one service environment, their traffic and their statistics.

    Slow work (building and starting a version, draining and stopping one) runs in the
    background: `start` and `stop` return at once and their effect shows in `observe`.
    Errors of the data plane raise `RouterError`, `CodeError` or `OSError`.
    """

    @property
    def url(self) -> str:
        """Where the environment serves its users."""

    @property
    def preview_url(self) -> str:
        """Where the version under preview (blue-green) serves."""

    def observe(self, launches: Mapping[str, Launch], versions: Sequence[str]) -> Observed:
        """The health of `versions` (each as `launches` plans it) and the weights applied."""

    def start(self, launch: Launch) -> None:
        """Start the version `launch` describes (nothing when it runs or is starting)."""

    def stop(self, version: str) -> None:
        """Drain the version (requests in flight finish), then stop it."""

    def restart(self, version: str) -> None:
        """Restart the running instances of `version` one by one, so that they get the
        secret values of now (in the background; a failure leaves them running)."""

    def weigh(self, weights: Mapping[str, int]) -> None:
        """Split the traffic: relative weights per version, a version left out gets 0."""

    def preview(self, version: str | None) -> None:
        """Send the preview listener's traffic to `version` (None: nothing under preview)."""

    def reset_stats(self, version: str, at: datetime) -> None:
        """Start counting `version`'s traffic from zero for a window opening `at`."""

    def measure(self, version: str, since: datetime, until: datetime, probe: bool) -> MetricSample:
        """The traffic of `version` in the window (since, until]; `probe` is a look at a
        window still open (fail-fast), which a target may answer from a recent look."""

    def check(self) -> None:
        """Check that the data plane still routes as told; what it lost is given again."""

    def reassert(self, version: str) -> list[str]:
        """Route as a finished deployment of `version` left things; returns what was
        repaired (empty when nothing was)."""

    def reconcile(self, owned: Collection[str]) -> Reconciled:
        """Stop every version running here that is not in `owned`, and drop its routes
        (weight-0 entries included). A version being started or drained is left to that
        work."""

    def close(self) -> None:
        """Stop watching; what runs keeps running for the next controller."""


@dataclass(frozen=True)
class TargetSite:
    """What opening the target of an environment needs."""

    service: str
    environment: str
    data_dir: Path
    router: RouterPlan


TargetOpener = Callable[[TargetSite], Target]
