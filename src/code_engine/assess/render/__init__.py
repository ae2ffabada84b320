"""Renderers of a report: a Rich table, Markdown for PR comments, SARIF for code scanning."""

from __future__ import annotations

from code_engine.assess.model import MAX_LEVEL, CheckResult, Report, Status

MATRIX_PACKAGES = (
    8  # up to this many packages, a check-by-package matrix; past it, one line a check
)
_ORDER = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.PASS: 2, Status.NOT_APPLICABLE: 3}


def level_bar(level: int, full: str = "■", empty: str = "□") -> str:
    return full * level + empty * (MAX_LEVEL - level)


def failing_first(results: tuple[CheckResult, ...]) -> list[CheckResult]:
    """Failing checks first, then by level, keeping the registry order otherwise."""
    return sorted(results, key=lambda r: (_ORDER[r.status], r.level))


def package_matrix(
    report: Report,
) -> tuple[list[str], list[tuple[CheckResult, list[Status | None]]]]:
    """A monorepo's package-scoped checks against its packages: the packages' names, then
    each check with its status per package (None where the check was not judged per package)."""
    names = [p.directory or f"{p.manifest} (root)" for p in report.packages]
    rows: list[tuple[CheckResult, list[Status | None]]] = []
    for result in report.results:
        if not result.packages:
            continue
        by_manifest = {p.manifest: p.status for p in result.packages}
        rows.append((result, [by_manifest.get(p.manifest) for p in report.packages]))
    return names, rows
