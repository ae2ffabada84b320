"""Readers of the tools' machine-readable reports; a report that is not what the tool
writes raises ReportError saying why."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree  # nosec B405 - reports our own steps wrote
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low", "unrated")


class ReportError(ValueError):
    """A report that is absent, unreadable or not in the expected format."""


def _xml(path: Path) -> ElementTree.Element:
    try:
        return ElementTree.parse(path).getroot()  # noqa: S314  # nosec B314
    except FileNotFoundError:
        raise ReportError(f"{path}: report absent") from None
    except (OSError, ElementTree.ParseError) as exc:
        raise ReportError(f"{path}: not XML ({exc})") from None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: report absent") from None
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: not JSON ({exc})") from None


def coverage_percent(path: Path) -> float:
    """Line coverage from coverage.py's XML (Cobertura) or JSON report."""
    if path.suffix == ".json":
        data = _json(path)
        try:
            return float(data["totals"]["percent_covered"])
        except (KeyError, TypeError, ValueError):
            raise ReportError(f"{path}: not a coverage.py JSON report (no totals)") from None
    root = _xml(path)
    rate = root.get("line-rate")
    if root.tag != "coverage" or rate is None:
        raise ReportError(f"{path}: not a Cobertura coverage report (<coverage line-rate=...>)")
    try:
        return float(rate) * 100
    except ValueError:
        raise ReportError(f"{path}: line-rate {rate!r} is not a number") from None


@dataclass(frozen=True)
class TestCounts:
    tests: int
    failures: int
    errors: int
    skipped: int


def junit_counts(path: Path) -> TestCounts:
    """Totals of a JUnit XML report (`<testsuites>` or a single `<testsuite>`)."""
    root = _xml(path)
    if root.tag == "testsuite":
        suites = [root]
    elif root.tag == "testsuites":
        suites = root.findall("testsuite")
    else:
        raise ReportError(f"{path}: not a JUnit report (root <{root.tag}>)")
    totals = [0, 0, 0, 0]
    for suite in suites:
        for index, name in enumerate(("tests", "failures", "errors", "skipped")):
            try:
                totals[index] += int(suite.get(name, "0"))
            except ValueError:
                raise ReportError(f"{path}: <testsuite {name}=...> is not a number") from None
    return TestCounts(*totals)


def sarif_counts(path: Path) -> dict[str, int]:
    """SAST findings by severity (high, medium, low) of a SARIF 2.1 log."""
    data = _json(path)
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ReportError(f"{path}: not a SARIF log (no runs)")
    counts = {"high": 0, "medium": 0, "low": 0}
    for run in data["runs"]:
        for result in run.get("results") or []:
            counts[_sarif_severity(result)] += 1
    return counts


def _sarif_severity(result: dict[str, Any]) -> str:
    properties = result.get("properties") or {}
    named = str(properties.get("issue_severity", "")).lower()  # bandit
    if named in ("high", "medium", "low"):
        return named
    score = properties.get("security-severity")
    if score is not None:
        value = float(score)
        return "high" if value >= 7 else "medium" if value >= 4 else "low"
    return {"error": "high", "warning": "medium"}.get(str(result.get("level", "warning")), "low")


COMPLEXITY = re.compile(r"`(?P<name>[^`]+)` is too complex \((?P<value>\d+) > \d+\)")


def max_complexity(path: Path) -> tuple[int, str | None]:
    """The highest cyclomatic complexity in ruff's JSON output (C901), and where it is."""
    data = _json(path)
    if not isinstance(data, list):
        raise ReportError(f"{path}: not ruff's JSON output (a list of findings)")
    worst, where = 0, None
    for finding in data:
        match = COMPLEXITY.search(str(finding.get("message", "")))
        if finding.get("code") != "C901" or match is None:
            continue
        if int(match["value"]) > worst:
            worst = int(match["value"])
            line = (finding.get("location") or {}).get("row")
            where = f"{match['name']} in {finding.get('filename')}:{line}"
    return worst, where


def duplication_percent(path: Path) -> float:
    """The share of duplicated lines in the report of `codectl ci duplication`."""
    data = _json(path)
    try:
        return float(data["percent"])
    except (KeyError, TypeError, ValueError):
        raise ReportError(f"{path}: not a duplication report (no percent)") from None


def vulnerability_counts(path: Path) -> dict[str, int]:
    """Vulnerabilities by severity in the dependency scanner's JSON report (`deps scan`)."""
    data = _json(path)
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise ReportError(f"{path}: not a dependency scan report (no vulnerabilities list)")
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in data["vulnerabilities"]:
        severity = finding.get("severity") if isinstance(finding, dict) else None
        if severity not in counts:
            raise ReportError(f"{path}: vulnerability severity {severity!r} is not one of "
                              f"{', '.join(SEVERITIES)}")  # fmt: skip
        counts[severity] += 1
    return counts


def secret_count(path: Path) -> int:
    """Secrets found and not in the baseline, from the report of `codectl ci secrets`."""
    data = _json(path)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ReportError(f"{path}: not a secrets report (no results list)")
    return len(data["results"])
