"""Small Python repositories for the pipeline's tests, built with real git, and `codectl ci`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.support.git import git

CODECTL = str(Path(sys.executable).with_name("codectl"))

GOOD = {
    "pyproject.toml": """\
        [project]
        name = "shop"
        version = "0.1.0"

        [tool.coverage.run]
        branch = false
    """,
    ".gitignore": "build/\n",
    "src/shop/__init__.py": '''\
        """A tiny shop."""


        def price(amount: int, unit: int) -> int:
            """What `amount` items cost."""
            if amount < 0:
                raise ValueError("negative amount")
            return amount * unit
    ''',
    "tests/test_price.py": """\
        import pytest

        from shop import price


        def test_price() -> None:
            assert price(3, 2) == 6


        def test_negative() -> None:
            with pytest.raises(ValueError):
                price(-1, 2)
    """,
}


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def code_yaml(gates: str = "", pipeline: str = "") -> str:
    return (
        "service: shop\nrepo: .\nenvironments:\n  - name: dev\n    target:\n"
        "      kind: local\n      command: python -m http.server {port}\n"
        + (f"quality_gates:\n{textwrap.indent(textwrap.dedent(gates), '  ')}" if gates else "")
        + (f"pipeline:\n{textwrap.indent(textwrap.dedent(pipeline), '  ')}" if pipeline else "")
    )


def make_repo(repo: Path, files: dict[str, str] | None = None, yaml: str | None = None) -> Path:
    """A committed repository with the good shop, `files` over it, and its code.yaml."""
    repo.mkdir(parents=True, exist_ok=True)
    write(repo, {**GOOD, **(files or {})})
    (repo / "code.yaml").write_text(yaml if yaml is not None else code_yaml(), encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feat: the shop")
    return repo


def ci(repo: Path, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    """`codectl ci ARGS -o json` in `repo`: exit code, the run report (if any), stderr."""
    env = {**os.environ, "PYTHONPATH": str(repo / "src"), "NO_COLOR": "1"}
    env.pop("CODE_CI_CACHE", None)
    done = subprocess.run(
        [CODECTL, "ci", *args, "-o", "json"], cwd=repo, capture_output=True, text=True, env=env,
        check=False, timeout=600,
    )  # fmt: skip
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    return done.returncode, report, done.stderr


def steps_by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in report["steps"]}


def gates_by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {gate["name"]: gate for gate in report["gates"]}
