"""Hollow files do not pass: each repository has a file that exists but does nothing.

One repository per case, built from the Level-3 one, with the expected verdict per check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.assess.conftest import NOW, WORKFLOW, Builder

from code_engine.assess import assess_repository
from code_engine.assess.model import CheckResult, Status

CI = ".github/workflows/ci.yml"
CI_CHECKS = ("ci.workflow", "ci.tests", "ci.triggers", "ci.quality-jobs", "ci.coverage")


def _results(path: Path) -> dict[str, CheckResult]:
    report = assess_repository(path, clock=lambda: NOW)
    return {r.id: r for r in report.results}


TRIGGERS = "  push:\n    branches: [main]\n  pull_request:\n"
RUNS_ON = "    runs-on: ubuntu-latest\n"
NEVER = {
    "tags only": WORKFLOW.replace(TRIGGERS, "  push:\n    tags: ['v*']\n"),
    "other branch": WORKFLOW.replace(TRIGGERS, "  push:\n    branches: [release]\n"),
    "manual only": WORKFLOW.replace("on:\n" + TRIGGERS, "on: workflow_dispatch\n"),
    "if false": WORKFLOW.replace(RUNS_ON, "    if: false\n" + RUNS_ON),
    "if ${{ false }}": WORKFLOW.replace(RUNS_ON, "    if: ${{ false }}\n" + RUNS_ON),
}
GATE = "  gate:\n    if: ${{ false }}\n" + RUNS_ON + "    steps:\n      - run: make lint\n"


@pytest.mark.parametrize(("case", "workflow"), NEVER.items())
def test_a_workflow_that_can_never_run_does_not_pass(
    build_repo: Builder, level3: dict[str, str], case: str, workflow: str
) -> None:
    results = _results(build_repo({**level3, CI: workflow}))
    for check in CI_CHECKS:
        assert results[check].status is Status.FAIL, (case, check)


def test_a_job_needing_a_disabled_job_does_not_run(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    workflow = WORKFLOW.replace(
        "  test:\n    runs-on:", "  test:\n    needs: [gate]\n    runs-on:"
    ).replace(
        "jobs:\n",
        "jobs:\n" + GATE,
    )
    results = _results(build_repo({**level3, CI: workflow}))
    assert results["ci.workflow"].status is Status.PASS
    assert results["ci.tests"].status is Status.FAIL
    assert results["ci.coverage"].status is Status.FAIL


@pytest.mark.parametrize(
    "step",
    [
        "      - run: pytest --cov=src --cov-report=xml || true\n",
        "      - run: pytest --cov=src --cov-report=xml\n        continue-on-error: true\n",
        "      - run: |\n          set +e\n          pytest --cov=src --cov-report=xml\n",
        "      - run: echo pytest --cov=src --cov-report=xml\n",
        "      - run: '# pytest --cov=src --cov-report=xml'\n",
        "      - run: python -c 'print(\"pytest --cov=src\")'\n",
        "      - if: false\n        run: pytest --cov=src --cov-report=xml\n",
    ],
)
def test_a_test_step_that_cannot_fail_does_not_count(
    build_repo: Builder, level3: dict[str, str], step: str
) -> None:
    workflow = WORKFLOW.replace("      - run: pytest --cov=src --cov-report=xml\n", step)
    results = _results(build_repo({**level3, CI: workflow}))
    assert results["ci.workflow"].status is Status.PASS
    assert results["ci.tests"].status is Status.FAIL, step
    assert results["ci.coverage"].status is Status.FAIL, step


def test_the_evidence_points_at_the_line_that_runs_the_tool(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    step = "      - run: |\n          echo starting\n          pytest --cov=src\n"
    workflow = WORKFLOW.replace("      - run: pytest --cov=src --cov-report=xml\n", step)
    results = _results(build_repo({**level3, CI: workflow}))
    evidence = results["ci.tests"].evidence[0]
    lines = workflow.splitlines()
    assert evidence.file == CI and evidence.line is not None
    assert lines[evidence.line - 1].strip() == "pytest --cov=src"


def test_a_backup_script_that_only_exits_does_not_pass(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    files = {**level3, "scripts/backup.sh": "#!/bin/sh\n# TODO\nset -eu\nexit 0\n"}
    files.pop("deploy/k8s/base/backup-cronjob.yaml")
    results = _results(build_repo(files))
    assert results["dr.backup"].status is Status.FAIL
    real = _results(build_repo({**files, "scripts/backup.sh": level3["scripts/backup.sh"]}))
    assert real["dr.backup"].status is Status.PASS


def test_a_drill_record_dated_in_the_future_does_not_pass(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    files = dict(level3)
    files.pop("docs/dr/drills/2026-10-15.md")
    files["docs/dr/drills/2027-01-15.md"] = "# Drill\n\nRestore verified.\n"
    results = _results(build_repo(files))
    assert results["dr.drill"].status is Status.FAIL
    assert any("future" in e.note for e in results["dr.drill"].evidence)


@pytest.mark.parametrize("owner", ["@org/team", "@your-username", "@username", "<owner>"])
def test_placeholder_code_owners_do_not_pass(
    build_repo: Builder, level3: dict[str, str], owner: str
) -> None:
    files = {**level3, ".github/CODEOWNERS": f"* {owner}\n"}
    results = _results(build_repo(files))
    assert results["scm.codeowners"].status is Status.FAIL
    assert results["scm.codeowners"].evidence[0].line == 1


def test_a_rego_file_with_no_rules_does_not_pass(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    files = {
        **level3,
        "policies/deploy.rego": "package deploy\n\nimport rego.v1\n# rules to come\n",
    }
    results = _results(build_repo(files))
    assert results["sec.policies"].status is Status.FAIL
    assert results["sec.policies"].evidence[0].note == "a package with no rules"


def test_pre_commit_hooks_that_do_nothing_do_not_pass(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    hollow = (
        "repos:\n  - repo: local\n    hooks:\n"
        "      - {id: ruff, name: ruff, entry: 'true', language: system}\n"
        "      - {id: mypy, name: mypy, entry: echo mypy, language: system}\n"
    )
    results = _results(build_repo({**level3, ".pre-commit-config.yaml": hollow}))
    assert results["dev.pre-commit"].status is Status.FAIL
    assert results["dev.pre-commit-coverage"].status is Status.FAIL


def test_the_level3_repository_still_passes_every_substance_check(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    results = _results(build_repo(level3))
    for check in (*CI_CHECKS, "dr.backup", "dr.drill", "scm.codeowners", "sec.policies"):
        assert results[check].status is Status.PASS, check
    assert results["dev.pre-commit-coverage"].status is Status.PASS
