"""The default test steps: which layout a repository has, and the tests gate over every
JUnit report of the split steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from code_engine.pipeline.gates import evaluate
from code_engine.pipeline.graph import order, waves
from code_engine.pipeline.model import PipelineError, Step, StepResult
from code_engine.pipeline.pytest_steps import default_test_steps, registered_markers
from code_engine.spec.quality import QualityGates

JUNIT = '<testsuites><testsuite tests="{tests}" failures="{failures}" errors="0" skipped="0"/>' \
    "</testsuites>"  # fmt: skip


def _names(repo: Path) -> list[str]:
    return [step.name for step in default_test_steps(repo, ("src",))]


def test_markers_registered_in_any_configuration_file_are_found(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nmarkers = ["e2e: the whole service", "slow"]\n'
    )
    (tmp_path / "setup.cfg").write_text("[tool:pytest]\nmarkers =\n    integration(x): across\n")
    assert registered_markers(tmp_path) == {"e2e", "slow", "integration"}
    (tmp_path / "setup.cfg").write_text("not [an ini file")
    assert registered_markers(tmp_path) == {"e2e", "slow"}


def test_markers_select_by_kind_and_the_unit_step_takes_the_rest(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    e2e: the whole service\n")
    steps = {step.name: step for step in default_test_steps(tmp_path, ("src",))}
    assert list(steps) == ["test-unit", "test-e2e", "coverage-combine", "coverage"]
    assert steps["test-unit"].run[4:6] == ("-m", "not e2e")
    assert steps["test-e2e"].run[4:6] == ("-m", "e2e")
    assert dict(steps["test-e2e"].env) == {"COVERAGE_FILE": "build/ci/coverage-data/e2e.coverage"}
    assert steps["coverage-combine"].after == ("test-unit", "test-e2e")
    assert steps["coverage"].needs == ("coverage-combine",)


def test_directories_select_by_path_and_the_unit_step_ignores_the_others(tmp_path: Path) -> None:
    assert _names(tmp_path) == ["pytest"]
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    assert _names(tmp_path) == ["pytest"]  # unit tests alone: nothing to split
    (tmp_path / "tests" / "integration").mkdir()
    steps = {step.name: step for step in default_test_steps(tmp_path, ("src",))}
    assert list(steps) == ["test-unit", "test-integration", "coverage-combine", "coverage"]
    assert "--ignore=tests/integration" in steps["test-unit"].run
    assert "tests/integration" in steps["test-integration"].run


def test_the_combining_steps_wait_for_every_test_step_whatever_its_outcome(tmp_path: Path) -> None:
    (tmp_path / "tests" / "e2e").mkdir(parents=True)
    steps = order(default_test_steps(tmp_path, ("src",)))
    assert waves(steps)["coverage-combine"] == {"test-unit", "test-e2e"}


def _tests_gate(
    tmp_path: Path, reports: dict[str, str | None]
) -> tuple[str, str | None, str | None]:
    steps, results = [], []
    for name, text in reports.items():
        path = f"{name}.xml"
        if text is not None:
            (tmp_path / path).write_text(text)
        steps.append(Step(name, "test", ("pytest",), reports=(("junit", path),)))
        results.append(StepResult(name, "test", "passed", False, 1.0, exit_code=0))
    gates = QualityGates.model_validate({"min_coverage_percent": 0})
    verdict = next(g for g in evaluate(gates, tmp_path, steps, results, False) if g.name == "tests")
    return verdict.verdict, verdict.measured, verdict.reason


def test_the_tests_gate_reads_every_junit_report(tmp_path: Path) -> None:
    ok = JUNIT.format(tests=2, failures=0)
    verdict, measured, _ = _tests_gate(tmp_path, {"test-unit": ok, "test-e2e": ok})
    assert (verdict, measured) == ("passed", "test-unit: 2/2 passed; test-e2e: 2/2 passed")

    failing = JUNIT.format(tests=2, failures=1)
    verdict, _, reason = _tests_gate(tmp_path, {"test-unit": ok, "test-e2e": failing})
    assert verdict == "failed"
    assert reason is not None and reason.startswith("test-e2e: measured 1/2 passed")


def test_a_missing_junit_report_fails_the_tests_gate_as_unmeasurable(tmp_path: Path) -> None:
    ok = JUNIT.format(tests=2, failures=0)
    verdict, _, reason = _tests_gate(tmp_path, {"test-unit": ok, "test-integration": None})
    assert verdict == "failed"
    assert reason is not None and reason.startswith("unmeasurable: step test-integration")


def test_an_unknown_after_is_an_error_naming_the_field() -> None:
    steps = [Step("coverage", "test", ("coverage",), after=("test-ui",), origin="steps.3")]
    with pytest.raises(PipelineError, match="runs after unknown step 'test-ui'") as caught:
        order(steps)
    assert caught.value.field == ("steps", 3, "after", 0)
