"""Monorepos: a package-scoped check judged for each package, then rolled up.

A repository with two or more packages (`polyglot.packages`) judges each package-scoped check
once per package; the repository passes only when every package the check applies to passes.
"""

from __future__ import annotations

from code_engine.assess.model import (
    Check,
    Evidence,
    Outcome,
    PackageResult,
    Status,
    failed,
    not_applicable,
    passed,
    unknown,
)
from code_engine.assess.polyglot import Package, packages
from code_engine.assess.repo import RepoView

MAX_NAMED = 5  # failing packages named in a roll-up's message


def packages_of(view: RepoView) -> list[Package]:
    """The repository's packages, found once per view."""
    return view.memo("packages", lambda: packages(view))


def is_monorepo(view: RepoView) -> bool:
    return len(packages_of(view)) >= 2


def inside(directory: str, name: str) -> bool:
    """Whether repository path `name` is `directory` or under it ("" is the root)."""
    return not directory or name == directory or name.startswith(directory + "/")


def owns(view: RepoView, package: Package, name: str) -> bool:
    """Whether file `name` belongs to `package`: under its directory and not under a nested
    package of the same ecosystem (a file belongs to its nearest package)."""
    if not inside(package.directory, name):
        return False
    return not any(
        other.ecosystem == package.ecosystem
        and len(other.directory) > len(package.directory)
        and inside(package.directory, other.directory)
        and inside(other.directory, name)
        for other in packages_of(view)
    )


_CODE = {
    "python": (".py",),
    "go": (".go",),
    "javascript": (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".mts", ".cts"),
}


def has_code(view: RepoView, package: Package) -> bool:
    """Whether the package holds any source file of its language (tests included)."""
    return any(owns(view, package, name) for name in view.with_suffix(*_CODE[package.ecosystem]))


def judge(view: RepoView, check: Check) -> tuple[Outcome, tuple[PackageResult, ...]]:
    """`check` judged for each package, and the roll-up over them."""
    assert check.per_package is not None  # noqa: S101 - only package-scoped checks come here
    results = tuple(
        _package_result(package, check.per_package(view, package)) for package in packages_of(view)
    )
    return roll_up(results), results


def _package_result(package: Package, outcome: Outcome) -> PackageResult:
    return PackageResult(
        manifest=package.manifest,
        ecosystem=package.ecosystem,
        status=outcome.status,
        message=outcome.message,
        evidence=outcome.evidence,
    )


def roll_up(results: tuple[PackageResult, ...]) -> Outcome:
    """Pass when every applicable package passes; fail naming the failing ones; packages the
    check does not apply to do not count (all of them: not applicable)."""
    applicable = [r for r in results if r.status is not Status.NOT_APPLICABLE]
    good = [r for r in applicable if r.status is Status.PASS]
    bad = [r for r in applicable if r.status is Status.FAIL]
    open_ = [r for r in applicable if r.status is Status.UNKNOWN]
    skipped = len(results) - len(applicable)
    tail = f" ({skipped} not applicable)" if skipped else ""
    score = f"{len(good)}/{len(applicable)} packages"
    if not applicable:
        return not_applicable(f"applies to none of {len(results)} packages")
    if bad:
        named = ", ".join(_name(r) for r in bad[:MAX_NAMED])
        more = f" and {len(bad) - MAX_NAMED} more" if len(bad) > MAX_NAMED else ""
        return failed(f"{score}{tail}; failing: {named}{more}", *_evidence(bad))
    if open_:
        return unknown(f"{score}{tail}; unknown: {', '.join(_name(r) for r in open_)}")
    return passed(f"{score}{tail}", *(Evidence(r.manifest, 1, r.message) for r in good))


def _name(result: PackageResult) -> str:
    return result.manifest.rpartition("/")[0] or f"{result.manifest} (root)"


def _evidence(bad: list[PackageResult]) -> tuple[Evidence, ...]:
    """Each failing package's first evidence, led by its manifest (where SARIF locates it)."""
    found: list[Evidence] = []
    for result in bad:
        items = list(result.evidence[:2])
        if not any(e.file == result.manifest for e in items):
            items.insert(0, Evidence(result.manifest, 1, result.message))
        found.extend(items)
    return tuple(found)
