"""Levels from results: a category reaches level N when every check of level N and below passes."""

from __future__ import annotations

from collections.abc import Iterable

from code_engine.assess.model import MAX_LEVEL, CheckResult, Status


def category_level(results: Iterable[CheckResult]) -> int:
    """The highest level whose checks, and all lower ones, pass.

    Not applicable counts as met; unknown does not (it was never shown to pass).
    """
    blocking = [r.level for r in results if r.status in (Status.FAIL, Status.UNKNOWN)]
    return min(blocking, default=MAX_LEVEL + 1) - 1


def repository_level(category_levels: Iterable[int]) -> int:
    """The repository's level is its weakest category's level."""
    return min(category_levels, default=0)
