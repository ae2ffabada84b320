"""Continuous integration: workflows on PR and push with lint, test, security and build."""

from __future__ import annotations

import re

from code_engine.assess import gitlab, monorepo, reach, tools
from code_engine.assess.checks import Checks, errors_as_evidence
from code_engine.assess.model import Category, Evidence, Outcome, failed, not_applicable, passed
from code_engine.assess.parsers import YamlMap
from code_engine.assess.pipelines import Workflow, ci_commands, job_commands, workflows
from code_engine.assess.polyglot import Package
from code_engine.assess.repo import RepoView

checks = Checks(Category.CONTINUOUS_INTEGRATION, "ci")
WORKFLOW = ".github/workflows/ci.yml"
_PR = ("pull_request", "pull_request_target")


@checks.add(
    "workflow",
    1,
    "A CI workflow exists and parses",
    target=WORKFLOW,
    why="Without an automated pipeline every check depends on someone remembering to run it.",
    fix="Add `.github/workflows/ci.yml` with `on:` triggers and at least one job.",
)
def workflow(view: RepoView) -> Outcome:
    found, errors = workflows(view)
    doc, jobs, gitlab_errors = gitlab.pipeline(view)
    if errors or gitlab_errors:
        return failed(
            "a workflow file is not valid YAML", *errors_as_evidence([*errors, *gitlab_errors])
        )
    with_jobs = [wf for wf in found if wf.runnable]
    running = _gitlab_running(doc, jobs)
    if running and not with_jobs:
        return passed(
            f"GitLab CI: {len(running)} jobs", Evidence(gitlab.GITLAB_CI, doc.line if doc else 1)
        )
    if not with_jobs:
        evidence = [Evidence(wf.file, 1, _why_not(wf)) for wf in found]
        return failed(
            "no GitHub Actions workflow in .github/workflows/ that can run on push or pull "
            "request of the default branch",
            *evidence,
        )
    return passed(
        f"{len(with_jobs)} workflows", *(Evidence(wf.file, wf.doc.line) for wf in with_jobs)
    )


@checks.add(
    "tests",
    1,
    "CI runs the tests",
    target=WORKFLOW,
    why="Tests that only run on a laptop do not protect the main branch.",
    fix="Add a job to `.github/workflows/ci.yml` whose step runs `pytest` (or `go test`, jest, "
    "vitest; directly or through a tox environment, nox session, `make` target, script or "
    "package.json script that does).",
)
def tests(view: RepoView) -> Outcome:
    evidence = tools.first_match(ci_commands(view), tools.TESTS)
    if evidence is None:
        return failed("no CI step runs a test runner (followed through make, tox, nox, scripts)")
    return passed("CI runs the tests", evidence)


@checks.per_package("tests")
def package_tests(view: RepoView, package: Package) -> Outcome:
    return _reached(
        view, package, tools.TESTS, ("runs this package's tests", "not tested", "runs its tests")
    )


@checks.add(
    "triggers",
    2,
    "CI runs on pull requests and on push",
    target=WORKFLOW,
    why="PR runs gate the merge; push runs prove the merged result on the main branch.",
    fix="In `.github/workflows/ci.yml` set `on:` to both `push:` and `pull_request:`.",
)
def triggers(view: RepoView) -> Outcome:
    doc, jobs, _ = gitlab.pipeline(view)
    if doc is not None and _gitlab_running(doc, jobs):
        note = "GitLab CI runs on push and merge requests"
        return passed(note, Evidence(gitlab.GITLAB_CI, doc.line_of("workflow"), note))
    found, _ = workflows(view)
    for wf in found:
        if wf.runnable and "push" in wf.triggers and wf.triggers.intersection(_PR):
            return passed(f"{wf.file} runs on push and pull_request", _on(wf))
    partial = [_on(wf) for wf in found if wf.triggers]
    return failed("no workflow runs on both push and pull_request", *partial)


def _gitlab_running(doc: object, jobs: list[gitlab.Job]) -> list[gitlab.Job]:
    """The GitLab CI jobs that run on push or merge request."""
    if not isinstance(doc, YamlMap) or not gitlab.runs_on_push_or_merge_request(doc):
        return []
    by_name = {job.name: job for job in jobs}
    return [job for job in jobs if gitlab.job_runs(job, by_name)]


def _why_not(wf: Workflow) -> str:
    if not wf.jobs:
        return "no jobs"
    if not wf.live_jobs:
        return "every job is disabled (`if: false`), needs a disabled job or ignores its failure"
    return "not triggered by push or pull_request of the default branch"


def _on(wf: Workflow) -> Evidence:
    key = "on" if "on" in wf.doc else True
    return Evidence(wf.file, wf.doc.line_of(key), "on: " + ", ".join(sorted(wf.triggers)))


@checks.add(
    "quality-jobs",
    2,
    "CI has lint, test, security and build jobs",
    target=WORKFLOW,
    why="Each kind of job catches a different failure; missing one lets that failure through.",
    fix="In `.github/workflows/ci.yml` add jobs that lint (ruff/pre-commit), test (pytest), "
    "scan (bandit/trivy) and build (docker build or python -m build).",
)
def quality_jobs(view: RepoView) -> Outcome:
    return _quality_outcome(_job_kinds(view))


@checks.per_package("quality-jobs")
def package_quality_jobs(view: RepoView, package: Package) -> Outcome:
    """Lint and test jobs must reach the package; security and build jobs count repository-wide."""
    if not monorepo.has_code(view, package):
        return _no_code(package)
    covered = {k: v for k, v in _job_kinds(view).items() if k not in _PER_PACKAGE_KINDS}
    for kind in _PER_PACKAGE_KINDS:
        hit = reach.first_reaching(view, ci_commands(view), tools.JOB_KINDS[kind], package)
        if hit:
            covered[kind] = Evidence(hit.file, hit.line, f"{kind}: {hit.note}")
    return _quality_outcome(covered, package)


_PER_PACKAGE_KINDS = ("lint", "test")


def _no_code(package: Package) -> Outcome:
    return not_applicable(f"no {package.ecosystem} code in the package: nothing to test or lint")


def _reached(
    view: RepoView, package: Package, pattern: re.Pattern[str], says: tuple[str, str, str]
) -> Outcome:
    """Passed when a CI command that `pattern` matches reaches `package`; `says`: what the
    missing step would do, the note at the manifest, what the found one does."""
    if not monorepo.has_code(view, package):
        return _no_code(package)
    missing, note, done = says
    evidence = reach.first_reaching(view, ci_commands(view), pattern, package)
    if evidence is None:
        return failed(f"no CI step {missing}", Evidence(package.manifest, 1, note))
    return passed(f"CI {done}", evidence)


def _quality_outcome(covered: dict[str, Evidence], package: Package | None = None) -> Outcome:
    missing = [k for k in tools.JOB_KINDS if k not in covered]
    if missing:
        where = (Evidence(package.manifest, 1, f"no {', '.join(missing)}"),) if package else ()
        return failed(
            f"no {', '.join(missing)} job in push/PR workflows",
            *where,
            *covered.values(),
            remediation=f"Add {', '.join(missing)} jobs to `{WORKFLOW}`.",
        )
    return passed("lint, test, security and build jobs", *covered.values())


def _job_kinds(view: RepoView) -> dict[str, Evidence]:
    return view.memo("ci-job-kinds", lambda: _compute_job_kinds(view))


def _compute_job_kinds(view: RepoView) -> dict[str, Evidence]:
    found, _ = workflows(view)
    covered: dict[str, Evidence] = {}
    for wf in found:
        if not wf.runnable:
            continue
        for job in wf.live_jobs:
            commands = job_commands(view, wf, job)
            for kind, pattern in tools.JOB_KINDS.items():
                if kind not in covered:
                    hit = tools.first_match(commands, pattern)
                    if hit:
                        covered[kind] = Evidence(hit.file, hit.line, f"{kind}: {hit.note}")
    doc, jobs, _ = gitlab.pipeline(view)
    by_name = {job.name: job for job in jobs}
    default = doc.get("default") if isinstance(doc, YamlMap) else None
    for running in _gitlab_running(doc, jobs):
        commands = gitlab.job_commands(view, running, by_name, default)
        for kind, pattern in tools.JOB_KINDS.items():
            if kind not in covered and (hit := tools.first_match(commands, pattern)):
                covered[kind] = Evidence(hit.file, hit.line, f"{kind}: {hit.note}")
    return covered


@checks.add(
    "coverage",
    2,
    "CI reports test coverage",
    target=WORKFLOW,
    why="A coverage report shows which code no test exercises; the seed asks for > 80%.",
    fix="Run tests with `pytest --cov --cov-report=xml` in CI and publish `coverage.xml`.",
)
def coverage(view: RepoView) -> Outcome:
    evidence = tools.first_match(ci_commands(view), tools.COVERAGE)
    if evidence is None:
        return failed("no CI step produces a coverage report")
    return passed("CI measures coverage", evidence)


@checks.per_package("coverage")
def package_coverage(view: RepoView, package: Package) -> Outcome:
    return _reached(
        view,
        package,
        tools.COVERAGE,
        ("measures this package's coverage", "no coverage", "measures its coverage"),
    )


@checks.add(
    "dependency-scan",
    3,
    "CI scans dependencies for known vulnerabilities",
    target=WORKFLOW,
    why="Most vulnerabilities ship in dependencies; a scan on every change catches them early.",
    fix="Add a CI step running `pip-audit`, `osv-scanner` or `trivy fs .` (or "
    "`actions/dependency-review-action` on PRs).",
)
def dependency_scan(view: RepoView) -> Outcome:
    evidence = tools.first_match(ci_commands(view), tools.DEPENDENCY_SCAN)
    if evidence is None:
        return failed("no dependency scanner in CI")
    return passed("CI scans dependencies", evidence)


@checks.add(
    "sast",
    3,
    "CI runs static application security testing",
    target=WORKFLOW,
    why="SAST finds injection, unsafe deserialisation and weak crypto before review does.",
    fix="Add a CI step running `bandit -r src` or `semgrep`, or the `github/codeql-action`.",
)
def sast(view: RepoView) -> Outcome:
    evidence = tools.first_match(ci_commands(view), tools.SAST)
    if evidence is None:
        return failed("no SAST tool in CI")
    return passed("CI runs SAST", evidence)


CHECKS = tuple(checks.all)
