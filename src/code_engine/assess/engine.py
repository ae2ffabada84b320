"""Assessing a repository: run the checks over one `RepoView`, then compute the levels."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from code_engine.assess import monorepo, secrets
from code_engine.assess.hosting import GitHubApi
from code_engine.assess.levels import category_level, repository_level
from code_engine.assess.model import (
    Category,
    CategoryResult,
    Check,
    CheckResult,
    PackageResult,
    Report,
)
from code_engine.assess.registry import checks_of
from code_engine.assess.repo import RepoView
from code_engine.clock import Clock, utc_now


def assess_repository(
    path: Path | str,
    *,
    categories: Iterable[Category] | None = None,
    clock: Clock = utc_now,
    drills: Sequence[datetime] | None = None,
    github: GitHubApi | None = None,
) -> Report:
    """Assess the git work tree at `path`; `UserError` when it is not one or a file is unreadable.

    `drills` are completion times of passed restore drills CODE ran and recorded; when given
    (even empty) they are the only drill evidence, files claiming drills are not read.
    `github` answers the checks only the host can (branch protection, code review).
    """
    now = clock()
    wanted = list(Category) if categories is None else [c for c in Category if c in set(categories)]
    view = RepoView.open(Path(path), now, None if drills is None else tuple(drills))
    view.github = github
    prefilter = secrets.start(view) if Category.SECURITY in wanted else None
    try:
        # git grep runs on another core while the other checks read and parse
        results = tuple(_category(view, category) for category in wanted)
    finally:
        if prefilter is not None:
            prefilter.close()
    return Report(
        path=str(view.root),
        commit=view.git.head,
        generated_at=now,
        level=repository_level(c.level for c in results),
        categories=results,
        findings=view.findings,
        packages=tuple(monorepo.packages_of(view)) if monorepo.is_monorepo(view) else (),
        present=frozenset(
            e.file
            for c in results
            for r in c.results
            for e in (*r.evidence, *(e for p in r.packages for e in p.evidence))
            if e.file and view.exists(e.file)
        ),
    )


def _category(view: RepoView, category: Category) -> CategoryResult:
    results = tuple(run_check(view, check) for check in checks_of(category))
    return CategoryResult(category, category_level(results), results)


def run_check(view: RepoView, check: Check) -> CheckResult:
    """One check's result; its outcome's remediation overrides the check's default fix.

    In a repository of two or more packages a package-scoped check is judged per package and
    rolled up (`monorepo.judge`).
    """
    packages: tuple[PackageResult, ...] = ()
    if check.per_package is not None and monorepo.is_monorepo(view):
        outcome, packages = monorepo.judge(view, check)
    else:
        outcome = check.run(view)
    return CheckResult(
        id=check.id,
        title=check.title,
        category=check.category,
        level=check.level,
        status=outcome.status,
        message=outcome.message,
        evidence=outcome.evidence,
        remediation=outcome.remediation or check.fix,
        target=check.target,
        packages=packages,
        scope=check.scope,
    )
