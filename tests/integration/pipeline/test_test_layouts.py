"""The default test stage splits unit, integration and e2e tests where the repository does
(registered markers or directories): real pytest, pytest-xdist and coverage, a step per kind
with its own JUnit report and coverage data, combined into the one coverage report."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.pipeline_repo import ci, code_yaml, gates_by_name, make_repo, steps_by_name

SPLIT = ["test-unit", "test-integration", "test-e2e", "coverage-combine", "coverage"]
ONLY_TESTS = code_yaml(
    gates="min_coverage_percent: 100\n",
    pipeline="skip: [ruff, ruff-format, mypy, complexity, duplication, bandit, secrets, dist,"
    " sbom]\n",
)
PRICE_TEST = (
    "from shop import price\n\n\ndef test_{name}() -> None:\n    assert price({n}, 2) == {r}\n"
)
MARKED = "import pytest\n\nfrom shop import price\n\n\n@pytest.mark.{kind}\ndef test_{kind}() -> None:\n    assert price({n}, 2) == {r}\n"  # noqa: E501
NEGATIVE = (
    "import pytest\n\nfrom shop import price\n\n\ndef test_negative() -> None:\n"
    "    with pytest.raises(ValueError):\n        price(-1, 2)\n"
)
PYPROJECT = """\
[project]
name = "shop"
version = "0.1.0"

[tool.pytest.ini_options]
# pytest-xdist: the workers' coverage lands in the step's own data file
addopts = "-p pytest_cov -p xdist.plugin -n 2"
markers = ["integration: across components", "e2e: the whole service"]

[tool.coverage.report]
fail_under = 100  # the combined report reaches it, no kind's share does
"""


# only the plugins the steps use: the test environment's others cost seconds per process
PLUGINS = '[project]\nname = "shop"\nversion = "0.1.0"\n\n[tool.pytest.ini_options]\n' \
    'addopts = "-p pytest_cov"\n'  # fmt: skip


@pytest.fixture(autouse=True)
def _named_plugins_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _directories(e2e_result: int) -> dict[str, str]:
    return {
        "pyproject.toml": PLUGINS,
        "tests/test_price.py": NEGATIVE,  # outside the three directories: the unit step's
        "tests/unit/test_unit.py": PRICE_TEST.format(name="unit", n=1, r=2),
        "tests/integration/test_integration.py": PRICE_TEST.format(name="integration", n=2, r=4),
        "tests/e2e/test_e2e.py": PRICE_TEST.format(name="e2e", n=3, r=e2e_result),
    }


def _markers() -> dict[str, str]:
    return {
        "pyproject.toml": PYPROJECT,
        "tests/test_price.py": NEGATIVE,  # unmarked: the unit step's
        "tests/test_integration.py": MARKED.format(kind="integration", n=2, r=4),
        "tests/test_e2e.py": MARKED.format(kind="e2e", n=3, r=6),
    }


# the markers layout also runs its tests on two pytest-xdist workers
@pytest.mark.parametrize("layout", ["directories", "markers"])
def test_each_kind_runs_once_in_its_step_and_the_coverage_is_combined(
    tmp_path: Path, layout: str
) -> None:
    files = _directories(6) if layout == "directories" else _markers()
    repo = make_repo(tmp_path / "shop", files, ONLY_TESTS)

    code, report, err = ci(repo, "--stage", "test")

    assert code == 0, err
    assert report is not None
    steps = steps_by_name(report)
    assert list(steps) == SPLIT
    assert all(step["status"] == "passed" for step in steps.values()), steps
    gates = gates_by_name(report)
    # test_negative (unit step) covers the raise, the others the return: 100% only combined
    assert gates["coverage"]["measured"] == "100.0%"
    assert gates["tests"]["verdict"] == "passed"
    for kind, count in (("unit", 1 + (layout == "directories")), ("integration", 1), ("e2e", 1)):
        assert f"test-{kind}: {count}/{count} passed" in gates["tests"]["measured"]
        assert (repo / f"build/ci/junit-{kind}.xml").is_file()
    assert not list(repo.glob(".coverage*")), "coverage data outside the steps' own files"
    if layout == "directories":  # unchanged: every step replayed, the combination included
        code, again, err = ci(repo, "--stage", "test")
        assert code == 0, err
        assert again is not None
        assert all(step["cached"] for step in again["steps"]), again["steps"]
        assert gates_by_name(again)["coverage"]["measured"] == "100.0%"


def test_a_failing_e2e_test_fails_the_tests_gate_naming_its_step_and_nothing_else(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "shop", _directories(7), ONLY_TESTS)

    code, report, _ = ci(repo, "--stage", "test")

    assert code == 1
    assert report is not None
    steps = steps_by_name(report)
    assert [name for name, s in steps.items() if s["status"] != "passed"] == ["test-e2e"]
    gates = gates_by_name(report)
    assert [name for name, g in gates.items() if g["verdict"] == "failed"] == ["tests"]
    assert gates["tests"]["reason"].startswith("test-e2e: measured")
    assert "test-e2e: 0/1 passed (1 failed, 0 errors)" in gates["tests"]["measured"]
