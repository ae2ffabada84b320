"""Where advisories come from: a local OSV directory, or the osv.dev API.

One small protocol, `AdvisorySource`: given the pins, the advisories of their packages and
what the database is. Either source fails with `DatabaseUnavailableError` (exit code 2):
a scan without a database must never pass.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx
import yaml

from code_engine.errors import UserError
from code_engine.pipeline.advisory import ECOSYSTEM, Advisory, AdvisoryError, parse_advisory
from code_engine.pipeline.lockfile import Pin, normalize
from code_engine.pipeline.osv import DatabaseInfo

OSV_API = "https://api.osv.dev"
_SUFFIXES = (".yaml", ".yml", ".json")


class DatabaseUnavailableError(UserError):
    """No advisory database could be read: the scan cannot say anything."""


class AdvisorySource(Protocol):
    def lookup(self, pins: Sequence[Pin]) -> tuple[dict[str, list[Advisory]], DatabaseInfo]:
        """The advisories of each pinned package (by normalized name), and the database."""
        ...


class LocalDatabase:
    """An OSV export on disk: `vulns/<package>/*.yaml|json` (the PyPA advisory database
    layout), `<package>/*` directly, or advisories side by side in one directory (an
    osv.dev `all.zip` unpacked)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def lookup(self, pins: Sequence[Pin]) -> tuple[dict[str, list[Advisory]], DatabaseInfo]:
        base = self.root / "vulns" if (self.root / "vulns").is_dir() else self.root
        if not base.is_dir():
            raise DatabaseUnavailableError(
                f"--osv-db {self.root}: not a directory of OSV advisories"
            )
        packages = {normalize(p.name): p for p in base.iterdir() if p.is_dir()}
        flat = [p for p in base.iterdir() if p.is_file() and p.suffix in _SUFFIXES]
        total = sum(len(_documents(d)) for d in packages.values()) + len(flat)
        if total == 0:
            raise DatabaseUnavailableError(
                f"--osv-db {self.root}: no advisories (*.yaml or *.json) found"
            )
        wanted = {pin.name for pin in pins}
        files = [f for name in sorted(wanted & packages.keys()) for f in _documents(packages[name])]
        found: dict[str, list[Advisory]] = defaultdict(list)
        modified: list[str] = []
        for path in [*files, *flat]:
            advisory = _read(path)
            if advisory.modified:
                modified.append(advisory.modified)
            for name in {a.package for a in advisory.affected} & wanted:
                found[name].append(advisory)
        info = DatabaseInfo(str(self.root), total, max(modified, default=None))
        return dict(found), info


class OsvDevClient:
    """The osv.dev API: one `querybatch` for every pin, then each advisory found."""

    def __init__(self, base_url: str = OSV_API, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def lookup(self, pins: Sequence[Pin]) -> tuple[dict[str, list[Advisory]], DatabaseInfo]:
        queries = [
            {"package": {"name": pin.name, "ecosystem": ECOSYSTEM}, "version": pin.version}
            for pin in pins
        ]
        found: dict[str, list[Advisory]] = defaultdict(list)
        fetched: dict[str, Advisory] = {}
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
                results = []
                for start in range(0, len(queries), 1000):  # the API's batch limit
                    answer = client.post("/v1/querybatch", json={"queries": queries[start:][:1000]})
                    answer.raise_for_status()
                    results.extend(answer.json().get("results", []))
                for pin, result in zip(pins, results, strict=False):
                    for vuln in result.get("vulns") or []:
                        vuln_id = str(vuln["id"])
                        if vuln_id not in fetched:
                            response = client.get(f"/v1/vulns/{vuln_id}")
                            response.raise_for_status()
                            fetched[vuln_id] = parse_advisory(response.json())
                        found[pin.name].append(fetched[vuln_id])
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AdvisoryError) as exc:
            raise DatabaseUnavailableError(
                f"no OSV database: {self.base_url} did not answer ({exc or type(exc).__name__}); "
                "pass --osv-db DIR with a local copy of an OSV export"
            ) from exc
        return dict(found), DatabaseInfo(self.base_url, len(fetched), None)


def _documents(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in _SUFFIXES)


def _read(path: Path) -> Advisory:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else _yaml(text)
        return parse_advisory(data)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise DatabaseUnavailableError(f"{path}: unreadable OSV advisory: {exc}") from exc


def _yaml(text: str) -> Any:
    """Safe YAML loading, with libyaml's parser when PyYAML has it (ten times faster)."""
    if hasattr(yaml, "CSafeLoader"):
        return yaml.load(text, Loader=yaml.CSafeLoader)
    return yaml.safe_load(text)  # pragma: no cover - PyYAML without libyaml
