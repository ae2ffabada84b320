"""The assessment's vocabulary: categories, checks, their results and the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from code_engine.assess.polyglot import Package
    from code_engine.assess.repo import RepoView

MAX_LEVEL = 3


class Status(str, Enum):
    """The outcome of one check."""

    PASS = "pass"  # noqa: S105 - a status, not a password  # nosec B105
    FAIL = "fail"
    NOT_APPLICABLE = "not-applicable"
    UNKNOWN = "unknown"  # what the check needs is not there (history of a shallow clone)


class Category(str, Enum):
    """The nine categories of the DevOps requirements, in their order."""

    SOURCE_CONTROL = "source-control"
    DEVELOPMENT_ENVIRONMENT = "development-environment"
    CONTINUOUS_INTEGRATION = "continuous-integration"
    CONTINUOUS_DEPLOYMENT = "continuous-deployment"
    INFRASTRUCTURE_AS_CODE = "infrastructure-as-code"
    CONTAINERS = "containers"
    OBSERVABILITY = "observability"
    SECURITY = "security"
    DISASTER_RECOVERY = "disaster-recovery"

    @property
    def label(self) -> str:
        return _TITLES[self]


_TITLES = {
    Category.SOURCE_CONTROL: "Source control & collaboration",
    Category.DEVELOPMENT_ENVIRONMENT: "Development environment",
    Category.CONTINUOUS_INTEGRATION: "Continuous integration",
    Category.CONTINUOUS_DEPLOYMENT: "Continuous deployment",
    Category.INFRASTRUCTURE_AS_CODE: "Infrastructure as code",
    Category.CONTAINERS: "Containers",
    Category.OBSERVABILITY: "Monitoring & observability",
    Category.SECURITY: "Security & compliance",
    Category.DISASTER_RECOVERY: "Disaster recovery",
}


@dataclass(frozen=True)
class Evidence:
    """Where a result comes from: a file and line, or a fact about the git history."""

    file: str | None = None
    line: int | None = None
    note: str = ""

    def render(self) -> str:
        where = self.file or ""
        if self.file and self.line:
            where += f":{self.line}"
        if where and self.note:
            return f"{where}: {self.note}"
        return where or self.note


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the engine turns it into a `CheckResult`."""

    status: Status
    message: str
    evidence: tuple[Evidence, ...] = ()
    remediation: str | None = None


def passed(message: str, *evidence: Evidence) -> Outcome:
    return Outcome(Status.PASS, message, evidence)


def failed(message: str, *evidence: Evidence, remediation: str | None = None) -> Outcome:
    return Outcome(Status.FAIL, message, evidence, remediation)


def not_applicable(message: str, *evidence: Evidence) -> Outcome:
    return Outcome(Status.NOT_APPLICABLE, message, evidence)


def unknown(message: str, *evidence: Evidence) -> Outcome:
    """Cannot be judged from what is there: never a pass, and the level is not reached."""
    return Outcome(Status.UNKNOWN, message, evidence)


@dataclass(frozen=True)
class Check:
    """One maturity check: a level in a category, why it matters and how to fix it.

    `target` is the repository path the fix adds or edits (where SARIF reports a missing file).
    A package-scoped check has `per_package`: in a repository of two or more packages it is
    judged for each package and rolled up (docs/assess-checks.md, "Monorepos").
    """

    id: str
    category: Category
    level: int
    title: str
    why: str
    fix: str
    target: str
    run: Callable[[RepoView], Outcome] = field(compare=False, repr=False)
    per_package: Callable[[RepoView, Package], Outcome] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def scope(self) -> str:
        """`package` when judged per package in a monorepo, else `repository`."""
        return "package" if self.per_package is not None else "repository"


@dataclass(frozen=True)
class PackageResult:
    """A package-scoped check's verdict for one package of a monorepo."""

    manifest: str  # the package's manifest file (pyproject.toml, go.mod, package.json)
    ecosystem: str
    status: Status
    message: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class CheckResult:
    """A check's result with its evidence and the remediation to apply when it fails."""

    id: str
    title: str
    category: Category
    level: int
    status: Status
    message: str
    evidence: tuple[Evidence, ...]
    remediation: str
    target: str
    # a package-scoped check in a monorepo: each package's verdict (empty otherwise)
    packages: tuple[PackageResult, ...] = ()
    scope: str = "repository"  # or "package" (`Check.scope`)


@dataclass(frozen=True)
class CategoryResult:
    """The level a category reaches and the results of its checks."""

    category: Category
    level: int
    results: tuple[CheckResult, ...]

    @property
    def failing(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is Status.FAIL)


@dataclass(frozen=True)
class Report:
    """A repository's assessment: its level (the lowest category level) and every result."""

    path: str
    commit: str | None
    generated_at: datetime
    level: int
    categories: tuple[CategoryResult, ...]
    # files refused while reading: links out of the repository, devices, oversized, YAML bombs
    findings: tuple[Evidence, ...] = ()
    # the evidence files that exist in the repository: only those get a SARIF location
    present: frozenset[str] = frozenset()
    # a monorepo's packages (two or more), each judged by the package-scoped checks
    packages: tuple[Package, ...] = ()

    @property
    def results(self) -> tuple[CheckResult, ...]:
        return tuple(r for c in self.categories for r in c.results)

    @property
    def failing_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.results if r.status is Status.FAIL)
