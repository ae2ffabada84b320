"""Monorepos: a package-scoped check judged for each package, then rolled up.

A repository with two or more packages (`polyglot.packages`) judges each package-scoped check
once per package; the repository passes only when every package the check applies to passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from code_engine.assess.checks import limit
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

# build and tool configuration, not code of the package (a workspace root holds only these)
TOOLING = re.compile(r"(^|/)(\.[^/]*|[^/]*\.config\.[cm]?[jt]s|setup\.py|noxfile\.py)$")
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
    """Whether repository path `name` belongs to `package`: it is in the package's directory
    and not in a nested package of the same language (a path belongs to its nearest package)."""
    return owner(view, name, package.ecosystem) == package


def owner(view: RepoView, name: str, ecosystem: str) -> Package | None:
    """The nearest package of `ecosystem` at or above repository path `name`."""
    by_directory = _directories(view).get(ecosystem, {})
    folder = name
    while True:
        if folder in by_directory:
            return by_directory[folder]
        if not folder:
            return None
        folder = folder.rpartition("/")[0]


def _directories(view: RepoView) -> dict[str, dict[str, Package]]:
    def compute() -> dict[str, dict[str, Package]]:
        found: dict[str, dict[str, Package]] = {}
        for package in packages_of(view):
            found.setdefault(package.ecosystem, {})[package.directory] = package
        return found

    return view.memo("package-directories", compute)


_CODE = {
    "python": (".py",),
    "go": (".go",),
    "javascript": (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".mts", ".cts"),
}


def files_of(
    view: RepoView, package: Package, kind: str, names: Callable[[], list[str]]
) -> list[str]:
    """Those of `names` (the files of `kind`) that belong to `package`: the files are grouped
    by package once per view, so each package costs only its own files."""
    key = f"files-of:{kind}:{package.ecosystem}"
    grouped = view.memo(key, lambda: _group(view, names(), package.ecosystem))
    return grouped.get(package.manifest, [])


def _group(view: RepoView, names: list[str], ecosystem: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in names:
        found = owner(view, name, ecosystem)
        if found is not None:
            grouped.setdefault(found.manifest, []).append(name)
    return grouped


def has_code(view: RepoView, package: Package) -> bool:
    """Whether the package holds any source file of its language (tests included, tool
    configuration not)."""
    suffixes = _CODE[package.ecosystem]
    names = files_of(view, package, "code", lambda: view.with_suffix(*suffixes))
    return any(not TOOLING.search(name) for name in names)


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
    return passed(f"{score}{tail}", *limit(r.evidence[0] if r.evidence else _lead(r) for r in good))


def _lead(result: PackageResult) -> Evidence:
    return Evidence(result.manifest, 1, result.message)


def _name(result: PackageResult) -> str:
    return result.manifest.rpartition("/")[0] or f"{result.manifest} (root)"


def _evidence(bad: list[PackageResult]) -> tuple[Evidence, ...]:
    """Each failing package's first evidence, led by its manifest (where SARIF locates it)."""
    found: list[Evidence] = []
    for result in bad:
        items = list(result.evidence[:2])
        if not any(e.file == result.manifest for e in items):
            items.insert(0, _lead(result))
        found.extend(items)
    return limit(found)
