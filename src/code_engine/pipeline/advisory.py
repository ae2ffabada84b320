"""An OSV advisory as the scanner needs it, read from its OSV-schema document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from code_engine.pipeline.lockfile import normalize

ECOSYSTEM = "PyPI"


@dataclass(frozen=True)
class Event:
    """One event of an ECOSYSTEM range: `introduced`, `fixed` or `last_affected`."""

    kind: str
    version: str


@dataclass(frozen=True)
class Affected:
    """What an advisory says of one package: its ECOSYSTEM ranges and explicit versions."""

    package: str
    ranges: tuple[tuple[Event, ...], ...]
    versions: tuple[str, ...]


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    modified: str | None
    affected: tuple[Affected, ...]
    cvss_vectors: tuple[str, ...]
    database_severity: str | None


class AdvisoryError(ValueError):
    """A document that is not an OSV advisory."""


def parse_advisory(data: Any) -> Advisory:
    """The advisory of an OSV document (YAML or JSON already loaded)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
        raise AdvisoryError("not an OSV advisory: no `id`")
    affected = tuple(_affected(entry) for entry in _list(data, "affected"))
    summary = data.get("summary") or data.get("details") or ""
    vectors = tuple(
        str(item["score"])
        for item in _list(data, "severity")
        if isinstance(item, Mapping)
        and str(item.get("type", "")).startswith("CVSS_V3")
        and item.get("score")
    )
    specific = data.get("database_specific")
    severity = specific.get("severity") if isinstance(specific, Mapping) else None
    modified = data.get("modified")
    if isinstance(modified, datetime):  # an unquoted YAML timestamp
        stamp = modified if modified.tzinfo else modified.replace(tzinfo=timezone.utc)
        modified = stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Advisory(
        id=data["id"],
        aliases=tuple(str(alias) for alias in _list(data, "aliases")),
        summary=" ".join(str(summary).split())[:300],
        modified=str(modified) if modified is not None else None,
        affected=tuple(a for a in affected if a is not None),
        cvss_vectors=vectors,
        database_severity=str(severity) if severity else None,
    )


def _affected(entry: Any) -> Affected | None:
    if not isinstance(entry, Mapping):
        raise AdvisoryError("affected: an entry is not a mapping")
    package = entry.get("package")
    if not isinstance(package, Mapping) or package.get("ecosystem") != ECOSYSTEM:
        return None
    ranges = []
    for range_ in _list(entry, "ranges"):
        if not isinstance(range_, Mapping) or range_.get("type") != "ECOSYSTEM":
            continue  # GIT and SEMVER ranges say nothing of PyPI versions
        events: list[Event] = []
        for event in _list(range_, "events"):
            if isinstance(event, Mapping):
                events.extend(
                    Event(kind, str(event[kind]))
                    for kind in ("introduced", "fixed", "last_affected")
                    if kind in event
                )
        ranges.append(tuple(events))
    versions = tuple(str(v) for v in _list(entry, "versions"))
    return Affected(normalize(str(package.get("name", ""))), tuple(ranges), versions)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise AdvisoryError(f"{key}: not a list")
    return value
