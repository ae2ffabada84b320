"""The routing table: which instances serve each version, and each version's weight."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from code_engine.deploy.router.errors import RouterError

Address = tuple[str, int]


def parse_address(address: str) -> Address:
    """`"127.0.0.1:8000"` → `("127.0.0.1", 8000)`; IPv6 may be bracketed."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RouterError(f"invalid backend address {address!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class WeightTable:
    """Cumulative weights for picking a version with one uniform random number."""

    versions: tuple[str, ...] = ()
    cumulative: tuple[float, ...] = ()

    @classmethod
    def build(cls, weights: Mapping[str, float]) -> WeightTable:
        versions = tuple(sorted(v for v, w in weights.items() if w > 0))
        return cls(versions, tuple(itertools.accumulate(float(weights[v]) for v in versions)))

    @property
    def total(self) -> float:
        return self.cumulative[-1] if self.cumulative else 0.0

    def choose(self, r: float) -> str | None:
        """The version for `r` drawn uniformly from [0, 1); None when nothing has weight."""
        if not self.versions:
            return None
        index = bisect.bisect_right(self.cumulative, r * self.total)
        return self.versions[min(index, len(self.versions) - 1)]


def validate(weights: Mapping[str, float], backends: Mapping[str, Sequence[object]]) -> None:
    """Refuse negative weights and weight on a version that has no instance."""
    for version, weight in weights.items():
        if weight < 0:
            raise RouterError(f"weight of {version!r} is negative: {weight}")
        if weight > 0 and not backends.get(version):
            raise RouterError(f"version {version!r} has weight {weight} but no backends")


class RoutingTable:
    """Backends and weights of the proxy; `pick()` is called once per request, and
    `pick_preview()` once per request on the preview listener."""

    def __init__(self, rand: Callable[[], float] = random.random) -> None:
        self._rand = rand
        self.backends: dict[str, tuple[Address, ...]] = {}
        self.weights: dict[str, int] = {}
        self.preview: str | None = None
        self._table = WeightTable()
        self._cycles: dict[str, Iterator[Address]] = {}

    def set_backends(self, backends: Mapping[str, Sequence[str]]) -> None:
        """Replace every version's instances; a version keeping weight must keep instances."""
        parsed = {v: tuple(parse_address(a) for a in addrs) for v, addrs in backends.items()}
        validate(self.weights, parsed)
        self.backends = {v: addrs for v, addrs in parsed.items() if addrs}
        self._cycles = {v: itertools.cycle(addrs) for v, addrs in self.backends.items()}

    def set_weights(self, weights: Mapping[str, int]) -> None:
        """Replace the weights; versions left out get 0."""
        validate(weights, self.backends)
        self.weights = {v: int(w) for v, w in weights.items()}
        self._table = WeightTable.build(self.weights)

    def set_preview(self, version: str | None) -> None:
        """Send the preview listener's traffic to `version` (None: to nobody)."""
        if version is not None and not self.backends.get(version):
            raise RouterError(f"cannot preview version {version!r}: it has no backends")
        self.preview = version

    def pick(self) -> tuple[str, Address] | None:
        """Choose a version by weight, then its next instance round-robin."""
        version = self._table.choose(self._rand())
        if version is None:
            return None
        return version, next(self._cycles[version])

    def pick_preview(self) -> tuple[str, Address] | None:
        """The version under preview and its next instance; None when there is none (or
        it lost its instances since)."""
        version = self.preview
        cycle = None if version is None else self._cycles.get(version)
        if version is None or cycle is None:
            return None
        return version, next(cycle)

    def unrouted_preview(self) -> bytes:
        """Why the preview listener cannot route a request (see `pick_preview`)."""
        if self.preview is None:
            return b"no version of this service is under preview"
        return b"the version under preview (%s) has no ready instance" % self.preview.encode()

    def addresses(self) -> set[Address]:
        return {a for addrs in self.backends.values() for a in addrs}

    def to_json(self) -> dict[str, object]:
        backends = {v: [f"{h}:{p}" for h, p in addrs] for v, addrs in self.backends.items()}
        return {"backends": backends, "weights": dict(self.weights), "preview": self.preview}
