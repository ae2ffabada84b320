"""The checks, one module per category; each module lists its checks in `CHECKS`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from code_engine.assess.model import Category, Check, Evidence, Outcome
from code_engine.assess.parsers import ParseError
from code_engine.assess.polyglot import Package
from code_engine.assess.repo import RepoView

CheckFn = Callable[[RepoView], Outcome]
PackageFn = Callable[[RepoView, Package], Outcome]
MAX_EVIDENCE = 10


class Checks:
    """Collects a category's checks in the order they are written."""

    def __init__(self, category: Category, prefix: str) -> None:
        self.category = category
        self.prefix = prefix
        self.all: list[Check] = []

    def add(
        self, slug: str, level: int, title: str, *, target: str, why: str, fix: str
    ) -> Callable[[CheckFn], CheckFn]:
        def register(run: CheckFn) -> CheckFn:
            check_id = f"{self.prefix}.{slug}"
            self.all.append(Check(check_id, self.category, level, title, why, fix, target, run))
            return run

        return register

    def per_package(self, slug: str) -> Callable[[PackageFn], PackageFn]:
        """Make an added check package-scoped: `run` judges one package of a monorepo."""

        def attach(run: PackageFn) -> PackageFn:
            check_id = f"{self.prefix}.{slug}"
            index = next(i for i, c in enumerate(self.all) if c.id == check_id)
            self.all[index] = replace(self.all[index], per_package=run)
            return run

        return attach


def errors_as_evidence(errors: Iterable[ParseError]) -> tuple[Evidence, ...]:
    return tuple(Evidence(e.file, e.line, e.message) for e in errors)


def limit(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """At most `MAX_EVIDENCE` items, so that one bad directory does not drown the report."""
    items = tuple(evidence)
    if len(items) <= MAX_EVIDENCE:
        return items
    extra = Evidence(note=f"... and {len(items) - MAX_EVIDENCE} more")
    return (*items[:MAX_EVIDENCE], extra)
