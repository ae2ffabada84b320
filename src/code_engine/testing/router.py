"""`FakeRouter`: the controller's `Router` in memory."""

from __future__ import annotations

from collections.abc import Mapping

from code_engine.deploy.controller.routing import KEEP, RouteChange, Routes
from code_engine.deploy.router import RouterError, VersionStats


class FakeRouter:
    """Routes and statistics in memory; `down` makes every call fail as a dead router's."""

    def __init__(self) -> None:
        self.backends: dict[str, list[str]] = {}
        self.weights: dict[str, int] = {}
        self.preview: str | None = None
        self.counters: dict[str, VersionStats] = {}
        self.in_flight: dict[str, int] = {}
        self.down = False
        self.changes: list[RouteChange] = []

    def _alive(self) -> None:
        if self.down:
            raise RouterError("router control unreachable")

    def routes(self) -> Routes:
        self._alive()
        return Routes(
            {v: list(a) for v, a in self.backends.items()}, dict(self.weights), self.preview
        )

    def change(self, change: RouteChange) -> None:
        """As the real routers: weight on a version without backends is refused."""
        self._alive()
        backends = self.backends if change.backends is None else dict(change.backends)
        weights = self.weights if change.weights is None else dict(change.weights)
        starved = [v for v, w in weights.items() if w > 0 and not backends.get(v)]
        if starved:
            raise RouterError(f"weight without backends: {', '.join(sorted(starved))}")
        self.backends = {v: list(a) for v, a in backends.items()}
        self.weights = dict(weights)
        if change.preview is not KEEP:
            self.preview = change.preview
        self.changes.append(change)

    def verify(self, weights: Mapping[str, int]) -> bool:
        self._alive()
        return _positive(self.weights) == _positive(weights)

    def stats(self) -> dict[str, VersionStats]:
        self._alive()
        return dict(self.counters)

    def reset_stats(self) -> None:
        self._alive()
        self.counters = {}

    def wait_idle(self, version: str, timeout: float) -> bool:  # noqa: ARG002 - nothing waits
        self._alive()
        return self.in_flight.get(version, 0) == 0


def _positive(weights: Mapping[str, int]) -> dict[str, int]:
    return {v: w for v, w in weights.items() if w > 0}
