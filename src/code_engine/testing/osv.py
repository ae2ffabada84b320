"""An advisory source answering from memory, or failing as an unreachable database does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from code_engine.pipeline.advisory import Advisory
from code_engine.pipeline.lockfile import Pin
from code_engine.pipeline.osv import DatabaseInfo
from code_engine.pipeline.osv_db import DatabaseUnavailableError


@dataclass
class FakeAdvisorySource:
    """`AdvisorySource` over a dict of advisories by package; `down` makes every lookup
    fail; `asked` records the pins of each lookup."""

    advisories: Mapping[str, Sequence[Advisory]] = field(default_factory=dict)
    down: bool = False
    asked: list[list[Pin]] = field(default_factory=list)

    def lookup(self, pins: Sequence[Pin]) -> tuple[dict[str, list[Advisory]], DatabaseInfo]:
        self.asked.append(list(pins))
        if self.down:
            raise DatabaseUnavailableError("no OSV database: the fake is down")
        found = {p.name: list(self.advisories[p.name]) for p in pins if p.name in self.advisories}
        total = sum(len(v) for v in self.advisories.values())
        return found, DatabaseInfo("memory", total, None)
