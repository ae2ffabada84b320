"""One supported floor of Python, said the same way everywhere: `requires-python`, the tools'
target versions, the version CI tests, the image and the dev container. CI tests the floor."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _floor() -> str:
    requires = PYPROJECT["project"]["requires-python"]
    found = re.fullmatch(r">=\s*(3\.\d+)", requires)
    assert found, f"requires-python is a plain floor, not {requires!r}"
    return found[1]


def test_the_tools_target_the_floor() -> None:
    floor = _floor()
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + floor.replace(".", "")
    assert PYPROJECT["tool"]["mypy"]["python_version"] == floor


def test_ci_tests_the_floor_and_the_images_run_it() -> None:
    floor = _floor()
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    # every job sets up the floor (the workflow is generated from `pipeline.github.python`)
    versions = {
        str(step["with"]["python-version"])
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("actions/setup-python@")
    }
    assert versions == {floor}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(rf"python:{re.escape(floor)}[.\d]*-slim", dockerfile)
    devcontainer = (ROOT / ".devcontainer" / "docker-compose.yml").read_text(encoding="utf-8")
    assert f"python:1-{floor}-" in devcontainer
    assert f"Python ≥ {floor}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_this_interpreter_is_supported() -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert running in SpecifierSet(PYPROJECT["project"]["requires-python"])
