"""Renderers of a report: a Rich table, Markdown for PR comments, SARIF for code scanning."""

from __future__ import annotations

from code_engine.assess.model import MAX_LEVEL, CheckResult, Status

_ORDER = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.PASS: 2, Status.NOT_APPLICABLE: 3}


def level_bar(level: int, full: str = "■", empty: str = "□") -> str:
    return full * level + empty * (MAX_LEVEL - level)


def failing_first(results: tuple[CheckResult, ...]) -> list[CheckResult]:
    """Failing checks first, then by level, keeping the registry order otherwise."""
    return sorted(results, key=lambda r: (_ORDER[r.status], r.level))
