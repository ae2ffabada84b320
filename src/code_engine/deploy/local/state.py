"""The supervisor's state file: per environment, the launch specs and instance records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from code_engine.deploy.local.atomic import read_json, write_json_atomic
from code_engine.deploy.local.model import InstanceRecord, LaunchSpec

FORMAT = 1


@dataclass
class SupervisorState:
    specs: dict[str, LaunchSpec] = field(default_factory=dict)
    records: list[InstanceRecord] = field(default_factory=list)


def load_state(path: Path) -> SupervisorState:
    """The saved state, or an empty one when there is no file yet."""
    data = read_json(path)
    if not isinstance(data, dict):
        return SupervisorState()
    specs = {v: LaunchSpec.from_json(s) for v, s in data.get("specs", {}).items()}
    records = [InstanceRecord.from_json(r) for r in data.get("instances", [])]
    return SupervisorState(specs, records)


def save_state(
    path: Path, specs: Mapping[str, LaunchSpec], records: Iterable[InstanceRecord]
) -> None:
    """Write atomically and private (specs may carry secrets in their env)."""
    data = {
        "format": FORMAT,
        "specs": {v: s.to_json() for v, s in sorted(specs.items())},
        "instances": [r.to_json() for r in sorted(records, key=lambda r: r.key)],
    }
    write_json_atomic(path, data, mode=0o600)
