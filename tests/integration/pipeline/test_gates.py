"""Each quality gate, missed in turn by a small repository, fails alone with its measured value
(real ruff, pytest + coverage, bandit, detect-secrets and the duplication detector)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.pipeline_repo import ci, code_yaml, gates_by_name, make_repo, steps_by_name

COMPLEX = '''\
    """Branches."""


    def grade(score: int, bonus: int, late: bool) -> str:
        """A grade."""
        if score > 90 and bonus:
            return "A+"
        if score > 90:
            return "A"
        if score > 80 or bonus > 5:
            return "B"
        if score > 70 and not late:
            return "C"
        if score > 60:
            return "D"
        return "F"
'''

COPIED = '''\
    """Copies."""


    def total(lines: list[tuple[str, int, int]], discount: float, tax: float) -> float:
        """The total."""
        subtotal = 0.0
        for name, amount, unit in lines:
            if not name or amount <= 0:
                continue
            subtotal += amount * unit
        subtotal = subtotal - subtotal * discount
        return round(subtotal + subtotal * tax, 2)
'''

UNTESTED = '''\
    """Untested code."""


    def report(rows: list[int]) -> list[str]:
        """Rows as text."""
        out = []
        for row in rows:
            if row > 10:
                out.append("big")
            elif row > 5:
                out.append("medium")
            else:
                out.append("small")
        out.sort()
        seen = set()
        unique = []
        for item in out:
            if item not in seen:
                seen.add(item)
                unique.append(item)
        return unique
'''

SHELL = '''\
    """Runs a command."""

    import subprocess


    def run(command: str) -> int:
        """Through a shell: what SAST must find."""
        return subprocess.call(command, shell=True)
'''

VULNERABLE = {
    "database": {"path": "osv", "advisories": 1, "modified": None},
    "scanned": 1,
    "vulnerabilities": [
        {
            "package": "jinja2",
            "version": "2.4.1",
            "id": "GHSA-462w-v97r-4m45",
            "aliases": ["CVE-2019-10906"],
            "severity": "critical",
            "fixed": ["2.10.1"],
            "summary": "sandbox escape",
        }
    ],
}

DEPS_STEP = """\
    steps:
      - name: dependencies
        stage: security
        run: [cp, deps.json, build/ci/dependencies.json]
        inputs: [deps.json]
        reports: {dependencies: build/ci/dependencies.json}
"""

# gate, step producing its report, files over the good repository, gates in code.yaml
CASES = [
    ("coverage", "pytest", {"src/shop/report.py": UNTESTED}, "", "%"),
    (
        "tests",
        "pytest",
        {"tests/test_broken.py": "def test_broken() -> None:\n    assert 1 == 2\n"},
        "",
        "2/3 passed (1 failed, 0 errors)",
    ),
    (
        "complexity",
        "complexity",
        {"src/shop/grade.py": COMPLEX},
        "max_complexity: 5\n",
        "6 (grade in src/shop/grade.py:4)",
    ),
    (
        "duplication",
        "duplication",
        {"src/shop/a.py": COPIED, "src/shop/b.py": COPIED},
        "",
        "%",
    ),
    ("sast (high)", "bandit", {"src/shop/shell.py": SHELL}, "", "1"),
    ("secrets", "secrets", {"settings.py": 'KEY = "AKIA' + 'IOSFODNN7EXAMPLE"\n'}, "", "1"),
    ("vulnerabilities (critical)", "dependencies", {"deps.json": json.dumps(VULNERABLE)}, "", "1"),
]


@pytest.mark.parametrize(
    ("gate", "step", "files", "gates", "measured"), CASES, ids=[case[0] for case in CASES]
)
def test_a_missed_gate_fails_alone_with_its_measured_value(
    tmp_path: Path, gate: str, step: str, files: dict[str, str], gates: str, measured: str
) -> None:
    pipeline = DEPS_STEP if step == "dependencies" else ""
    repo = make_repo(tmp_path / "shop", files, code_yaml(gates, pipeline))

    code, report, stderr = ci(repo, "--step", step)

    assert report is not None, stderr
    assert code == 1, stderr
    verdicts = gates_by_name(report)
    assert verdicts[gate]["verdict"] == "failed", verdicts
    assert measured in verdicts[gate]["measured"]
    assert verdicts[gate]["reason"].startswith(f"measured {verdicts[gate]['measured']}")
    others = {name for name, g in verdicts.items() if g["verdict"] == "failed"} - {gate}
    assert not others, verdicts


def test_a_good_repository_passes_every_gate_and_reports_the_contract(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")

    code, report, stderr = ci(repo, "--stage", "lint", "--stage", "test", "--stage", "security")

    assert report is not None, stderr
    assert code == 0, stderr
    assert report["service"] == "shop"
    assert len(report["commit"]) == 40
    assert report["dirty"] is False
    assert report["status"] == "passed"
    assert set(steps_by_name(report)) == {
        "ruff", "ruff-format", "mypy", "complexity", "duplication", "pytest", "bandit", "secrets",
    }  # fmt: skip
    assert {g["name"] for g in report["gates"]} == {
        "coverage", "tests", "complexity", "duplication", "sast (high)", "secrets",
    }  # fmt: skip
    assert all(g["verdict"] == "passed" for g in report["gates"]), report["gates"]
    assert gates_by_name(report)["coverage"]["measured"] == "100.0%"
    assert gates_by_name(report)["tests"]["measured"] == "2/2 passed"


def test_a_report_that_is_not_what_the_tool_writes_fails_its_gate_and_says_why(
    tmp_path: Path,
) -> None:
    pipeline = """\
        defaults: false
        steps:
          - name: fake-tests
            stage: test
            run: [cp, junit.txt, build/ci/junit.xml]
            reports: {junit: build/ci/junit.xml}
    """
    repo = make_repo(tmp_path / "shop", {"junit.txt": "all good\n"}, code_yaml("", pipeline))

    code, report, stderr = ci(repo)

    assert code == 1, stderr
    assert report is not None
    tests = gates_by_name(report)["tests"]
    assert tests["verdict"] == "failed"
    assert tests["measured"] is None
    assert "step fake-tests" in tests["reason"]
    assert "build/ci/junit.xml: not XML" in tests["reason"]
    coverage = gates_by_name(report)["coverage"]
    assert coverage["reason"] == "unmeasurable: no step of the pipeline writes a coverage report"
