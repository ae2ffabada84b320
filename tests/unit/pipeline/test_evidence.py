"""Release qualification from recorded runs, and `requires_pipeline`'s default."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from code_engine.pipeline.evidence import (
    GateResult,
    RecordedRun,
    RunReport,
    StepResult,
    qualify,
    report_to_dict,
)
from code_engine.spec import load_spec_text

SHA = "c0ffee" * 6 + "abcd"
AT = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
PASSED = GateResult("coverage", "> 80", "91.0", "passed")


def run(
    run_id: int,
    status: str = "passed",
    gates: tuple[GateResult, ...] = (PASSED,),
    steps: tuple[StepResult, ...] = (),
    dirty: bool = False,
) -> RecordedRun:
    report = RunReport("shop", SHA, dirty, AT, AT + timedelta(seconds=90), status, steps, gates)
    return RecordedRun(run_id, report)


def test_no_run_is_no_qualification() -> None:
    verdict = qualify(SHA, [])
    assert not verdict.qualified and verdict.reason == f"no passing pipeline run for commit {SHA}"
    assert qualify("", [run(1)]).reason == "no passing pipeline run for commit (none)"


def test_the_newest_clean_run_decides() -> None:
    failing = GateResult("vulnerabilities", "0 critical", "2 critical", "failed")
    unmeasured = GateResult("duplication", "< 3 %", None, "failed", "report absent: dup.json")
    newest_failed = qualify(SHA, [run(3, "failed", (PASSED, failing, unmeasured)), run(2)])
    assert not newest_failed.qualified and newest_failed.run_id == 3
    assert newest_failed.failed_gates == ("vulnerabilities", "duplication")
    assert newest_failed.reason == (
        f"no passing pipeline run for commit {SHA}: run 3 failed gates: vulnerabilities "
        "(measured 2 critical, threshold 0 critical), duplication (report absent: dup.json)"
    )
    # a dirty run is evidence, never a qualification: the clean run before it decides
    assert qualify(SHA, [run(4, dirty=True), run(2)]).qualified
    assert not qualify(SHA, [run(4, dirty=True)]).qualified


def test_passed_means_every_step_and_gate_passed() -> None:
    broken = StepResult("pytest", "test", "failed", False, 3.0)
    skipped = StepResult("image", "build", "skipped", False, 0.0, "skipped: no engine")
    assert qualify(SHA, [run(1, steps=(skipped,))]).qualified
    assert "failed steps: pytest" in qualify(SHA, [run(1, "failed", (), (broken,))]).reason
    liar = qualify(SHA, [run(1, "passed", (GateResult("tests", "all", "9/10", "failed"),))])
    assert not liar.qualified and "failed gates: tests" in liar.reason


def test_the_report_format_round_trips_its_fields() -> None:
    data = report_to_dict(run(1, steps=(StepResult("ruff", "lint", "passed", True, 0.1),)).report)
    assert data["started_at"] == "2026-12-01T10:00:00+00:00"
    assert data["steps"][0] == {
        "name": "ruff",
        "stage": "lint",
        "status": "passed",
        "cached": True,
        "duration_s": 0.1,
        "reason": None,
    }


@pytest.mark.parametrize(
    ("name", "protection", "required"),
    [
        ("prod", "", True),
        ("staging", "", False),
        ("prod", "\n    protection: {requires_pipeline: false}", False),
        ("dev", "\n    protection: {requires_pipeline: true}", True),
    ],
)
def test_requires_pipeline_defaults_to_prod_only(
    name: str, protection: str, required: bool
) -> None:
    text = (
        "service: shop\nrepo: .\nenvironments:\n"
        f"  - name: {name}\n    target: {{kind: local, command: 'x --port {{port}}'}}{protection}\n"
    )
    assert load_spec_text(text, "code.yaml").environment(name).requires_pipeline is required
