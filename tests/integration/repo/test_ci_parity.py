"""`.ci/run` and the GitHub workflow run the same CI: every `ci-*` target of the Makefile, the
same components installed, and every component the tests use required (a missing one fails)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
REQUIRE = re.compile(r"CODE_TEST_REQUIRE_([A-Z]+)")


def _ci_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^(ci-[a-z0-9-]+):", makefile, re.MULTILINE))


def _workflow_runs() -> str:
    steps = [step for job in WORKFLOW["jobs"].values() for step in job["steps"]]
    return "\n".join(step.get("run", "") for step in steps)


def _components_the_tests_use() -> set[str]:
    used: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        if "node_modules" in path.parts or path.parent.name == "support":
            continue  # the helpers and their own tests name components generically
        text = path.read_text(encoding="utf-8")
        used |= set(REQUIRE.findall(text))
        used |= {c.upper() for c in re.findall(r"\bmissing\(\s*\"(\w+)\"", text)}
        used |= {c.upper() for c in re.findall(r"\bbinary\(\s*\"[^\"]+\",\s*\"(\w+)\"", text)}
    return used


def test_ci_run_runs_every_ci_target() -> None:
    listed = re.search(r"^targets=\(([^)]*)\)", CI_RUN, re.MULTILINE)
    assert listed, ".ci/run lists its targets"
    assert set(listed[1].split()) == _ci_targets()
    assert 'make "$target"' in CI_RUN


def test_the_workflow_runs_every_ci_target() -> None:
    runs = _workflow_runs()
    assert {t for t in _ci_targets() if f"make {t}" not in runs} == set()


def test_both_require_every_component_the_tests_use() -> None:
    test_job = WORKFLOW["jobs"]["test"]["env"]
    in_workflow = {REQUIRE.fullmatch(k)[1] for k, v in test_job.items() if REQUIRE.fullmatch(k)}  # type: ignore[index]
    assert all(test_job[f"CODE_TEST_REQUIRE_{c}"] == "1" for c in in_workflow)
    in_ci_run = set(re.findall(r"CODE_TEST_REQUIRE_([A-Z]+)=1", CI_RUN))
    used = _components_the_tests_use()
    assert used >= {"POSTGRES", "HAPROXY", "PROMETHEUS", "BROWSER"}
    assert in_ci_run == in_workflow == used
    assert test_job["CODE_CI"] == "1" and "export CODE_CI=1" in CI_RUN


def test_both_install_the_same_components() -> None:
    runs = _workflow_runs()
    for installer in ("scripts/ci-system-packages.sh", "npm ci --prefix tests/browser"):
        assert installer in CI_RUN and installer in runs
    packages = (ROOT / "scripts" / "ci-system-packages.sh").read_text(encoding="utf-8")
    for package in ("postgresql", "haproxy", "prometheus", "chromium", "nodejs", "git"):
        assert f"need+=({package}" in packages
