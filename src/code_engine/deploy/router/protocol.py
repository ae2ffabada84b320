"""The one interface every traffic router implements (builtin proxy, HAProxy, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from code_engine.deploy.router.stats import VersionStats


class TrafficRouter(Protocol):
    """Splits a service's traffic between versions.

    Backends are `"host:port"` addresses per version. Weights are relative integers per
    version (the controller uses percentages that sum to 100); a version left out gets 0.
    Changing weights never drops a connection: new requests follow the new weights and
    in-flight ones finish where they started. A second, preview port sends every request
    to the version under preview, whatever the weights; both ports count in `stats`.
    """

    kind: str

    def set_backends(self, backends: Mapping[str, Sequence[str]]) -> None:
        """Replace the instances of every version (a version with weight must keep some)."""

    def set_weights(self, weights: Mapping[str, int]) -> None:
        """Apply new weights."""

    def get_weights(self) -> dict[str, int]:
        """The weights the router applies now."""

    def get_backends(self) -> dict[str, list[str]]:
        """The instances of every version the router knows now."""

    def set_preview(self, version: str | None) -> None:
        """Send all requests of the preview port to `version` (None: answer them 503)."""

    def get_preview(self) -> str | None:
        """The version the preview port serves now."""

    def verify_weights(self, expected: Mapping[str, int]) -> bool:
        """Whether the router really applies `expected` (versions left out count as 0)."""

    def stats(self) -> dict[str, VersionStats]:
        """Requests, 5xx and latencies per version since the last reset."""

    def reset_stats(self) -> None:
        """Start counting from zero (at the beginning of an analysis window)."""

    def wait_idle(self, version: str, timeout: float) -> bool:
        """Wait until `version` has no request in flight; False if `timeout` passed first."""
