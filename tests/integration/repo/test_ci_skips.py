"""With CODE_CI=1 the session lists every skipped test and fails when there is one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _pytest(tmp_path: Path, ci: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CODE_CI", "CI")}
    env.update(CODE_CI=ci, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.support.ci", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", os.devnull, *args, str(tmp_path)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "test_some.py").write_text(
        "import pytest\n\n"
        "def test_runs():\n    pass\n\n"
        "def test_needs_a_server():\n    pytest.skip('no server here')\n"
    )
    return tmp_path


def test_ci_prints_the_skips_and_fails(suite: Path) -> None:
    run = _pytest(suite, "1")
    assert run.returncode == 1, run.stdout
    assert "skipped tests (CODE_CI=1: must be none)" in run.stdout
    assert "SKIPPED test_some.py::test_needs_a_server: no server here" in run.stdout
    assert "1 skipped: the run fails" in run.stdout


def test_ci_also_fails_with_parallel_workers(suite: Path) -> None:
    run = _pytest(suite, "1", "-n", "2")
    assert run.returncode == 1, run.stdout
    assert "SKIPPED test_some.py::test_needs_a_server: no server here" in run.stdout


def test_outside_ci_a_skip_is_only_reported(suite: Path) -> None:
    run = _pytest(suite, "")
    assert run.returncode == 0, run.stdout
    assert "must be none" not in run.stdout


def test_an_empty_skip_list_passes(tmp_path: Path) -> None:
    (tmp_path / "test_ok.py").write_text("def test_runs():\n    pass\n")
    run = _pytest(tmp_path, "1")
    assert run.returncode == 0, run.stdout
    assert "0 skipped" in run.stdout
