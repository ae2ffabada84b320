"""Gates judged from report files written in the tools' formats."""

from __future__ import annotations

import json
from pathlib import Path

from code_engine.pipeline.gates import evaluate
from code_engine.pipeline.model import Step, StepResult
from code_engine.spec.quality import QualityGates


def _scan(*severities: str) -> dict[str, object]:
    return {
        "database": {"path": "osv", "advisories": 3, "modified": "2024-10-01T00:00:00Z"},
        "scanned": 12,
        "vulnerabilities": [
            {
                "package": "jinja2",
                "version": "2.4.1",
                "id": f"GHSA-{i}",
                "aliases": [],
                "severity": s,
                "fixed": ["2.10.1"],
                "summary": "",
            }  # fmt: skip
            for i, s in enumerate(severities)
        ],
    }


def _judge(tmp_path: Path, report: object, **gates: object) -> dict[str, tuple[str, str | None]]:
    (tmp_path / "deps.json").write_text(json.dumps(report))
    step = Step("deps", "security", ("x",), reports=(("dependencies", "deps.json"),))
    result = StepResult("deps", "security", "passed", False, 0.1, exit_code=1)
    verdicts = evaluate(QualityGates.model_validate(gates), tmp_path, [step], [result], False)
    return {v.name: (v.verdict, v.measured) for v in verdicts}


def test_vulnerabilities_are_judged_by_severity(tmp_path: Path) -> None:
    verdicts = _judge(tmp_path, _scan("critical", "high", "high"), max_high_vulnerabilities=1)
    assert verdicts == {
        "vulnerabilities (critical)": ("failed", "1"),
        "vulnerabilities (high)": ("failed", "2"),
    }
    assert _judge(tmp_path, _scan("low", "unrated"))["vulnerabilities (critical)"] == (
        "passed",
        "0",
    )


def test_a_report_in_another_format_is_unmeasurable_and_fails(tmp_path: Path) -> None:
    (tmp_path / "deps.json").write_text("[]")
    step = Step("deps", "security", ("x",), reports=(("dependencies", "deps.json"),))
    result = StepResult("deps", "security", "passed", False, 0.1, exit_code=0)
    [gate] = evaluate(QualityGates(), tmp_path, [step], [result], False)
    assert gate.verdict == "failed"
    assert gate.measured is None
    assert gate.reason == (
        "unmeasurable: step deps: deps.json: not a dependency scan report (no vulnerabilities list)"
    )


def test_a_step_that_never_ran_leaves_its_gates_unmeasurable(tmp_path: Path) -> None:
    step = Step("bandit", "security", ("bandit",), reports=(("sarif", "b.sarif"),))
    missing = "tool 'bandit' not found in .venv/bin or on PATH"
    result = StepResult("bandit", "security", "failed", False, 0.0, missing)
    [gate] = evaluate(QualityGates(), tmp_path, [step], [result], False)
    assert gate.reason == f"unmeasurable: step bandit wrote no report ({missing})"
