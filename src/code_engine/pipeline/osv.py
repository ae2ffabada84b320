"""The dependency scan: every pinned package matched against OSV advisories.

Pure: the advisories come from an `AdvisorySource` (a local OSV directory or osv.dev,
`osv_db`), the pins from `lockfile`. Matching follows the OSV schema: a version is affected
when an ECOSYSTEM range of the package holds it (events in PEP 440 order: `introduced`
opens, `fixed` closes before itself, `last_affected` closes after itself) or when the
advisory lists it in `versions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from code_engine.pipeline import cvss
from code_engine.pipeline.advisory import Advisory, Affected, Event
from code_engine.pipeline.lockfile import Pin

SEVERITIES = ("critical", "high", "medium", "low", "unrated")
_DATABASE_SEVERITY = {
    "critical": "critical",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
}


@dataclass(frozen=True)
class Finding:
    """One advisory affecting one pinned package."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    severity: str
    score: float | None
    fixed: tuple[str, ...]
    summary: str
    origin: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "id": self.id,
            "aliases": list(self.aliases),
            "severity": self.severity,
            "fixed": list(self.fixed),
            "summary": self.summary,
        }


@dataclass(frozen=True)
class DatabaseInfo:
    """Which database answered: its path or URL, how many advisories, newest `modified`."""

    path: str
    advisories: int
    modified: str | None


@dataclass(frozen=True)
class ScanReport:
    database: DatabaseInfo
    scanned: int
    findings: tuple[Finding, ...]

    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity present (zero included)."""
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        """The report format the pipeline's vulnerability gate reads."""
        return {
            "database": {
                "path": self.database.path,
                "advisories": self.database.advisories,
                "modified": self.database.modified,
            },
            "scanned": self.scanned,
            "vulnerabilities": [finding.to_dict() for finding in self.findings],
        }


def scan(
    pins: Sequence[Pin],
    advisories: Mapping[str, Sequence[Advisory]],
    database: DatabaseInfo,
    ignore: Iterable[str] = (),
) -> ScanReport:
    """Match every pin with the advisories of its package; `ignore` drops advisory ids
    (or aliases) the project has reviewed."""
    ignored = set(ignore)
    findings = []
    for pin in pins:
        for advisory in advisories.get(pin.name, ()):
            if advisory.id in ignored or ignored.intersection(advisory.aliases):
                continue
            finding = match(pin, advisory)
            if finding is not None:
                findings.append(finding)
    findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.package, f.version, f.id))
    return ScanReport(database, len(pins), tuple(findings))


def match(pin: Pin, advisory: Advisory) -> Finding | None:
    """The finding when `advisory` affects the pinned version, else None."""
    fixed: list[str] = []
    hit = False
    for affected in advisory.affected:
        if affected.package != pin.name:
            continue
        listed, fixes = affected_by(affected, pin.version)
        if listed:
            hit = True
            fixed.extend(fixes)
    if not hit:
        return None
    severity, score = severity_of(advisory)
    return Finding(
        package=pin.name,
        version=pin.version,
        id=advisory.id,
        aliases=advisory.aliases,
        severity=severity,
        score=score,
        fixed=tuple(sorted(set(fixed), key=_sort_key)),
        summary=advisory.summary,
        origin=pin.origin,
    )


def affected_by(affected: Affected, version: str) -> tuple[bool, list[str]]:
    """Whether `version` is affected, and the `fixed` versions of the ranges holding it."""
    parsed = _parse(version)
    hit = any(
        version == listed or (parsed is not None and parsed == _parse(listed))
        for listed in affected.versions
    )
    fixes: list[str] = []
    if parsed is not None:
        for events in affected.ranges:
            if in_range(events, parsed):
                hit = True
                fixes.extend(e.version for e in events if e.kind == "fixed")
    return hit, fixes


def in_range(events: Sequence[Event], version: Version) -> bool:
    """The OSV ECOSYSTEM range evaluation: walk the events in version order."""
    ordered = []
    for event in events:
        at = Version("0") if event.version == "0" else _parse(event.version)
        if at is not None:
            ordered.append((at, event.kind))
    # at one version, a range that closes sorts before one that opens
    ordered.sort(key=lambda item: (item[0], item[1] == "introduced"))
    affected = False
    for at, kind in ordered:
        if kind == "introduced" and version >= at:
            affected = True
        elif kind == "fixed" and version >= at:
            affected = False
        elif kind == "last_affected" and version > at:
            affected = False
    return affected


def severity_of(advisory: Advisory) -> tuple[str, float | None]:
    """From the highest CVSS v3 base score, else `database_specific.severity`, else unrated."""
    scores = []
    for vector in advisory.cvss_vectors:
        try:
            scores.append(cvss.base_score(vector))
        except cvss.VectorError:
            continue
    if scores:
        best = max(scores)
        return cvss.rating(best), best
    named = _DATABASE_SEVERITY.get((advisory.database_severity or "").lower())
    return (named, None) if named else ("unrated", None)


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _sort_key(version: str) -> tuple[int, Version | str]:
    parsed = _parse(version)
    return (0, parsed) if parsed is not None else (1, version)
