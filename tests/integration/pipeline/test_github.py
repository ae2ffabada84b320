"""`codectl ci github` prints a workflow for the repository's own pipeline."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from tests.support.pipeline_repo import CODECTL, make_repo


def test_the_workflow_has_a_job_per_stage_and_uploads_the_reports(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", {"requirements.lock": "jinja2==3.1.4\n"})

    done = subprocess.run(
        [CODECTL, "ci", "github", "--python", "3.12"], cwd=repo, capture_output=True, text=True,
        check=True,
    )  # fmt: skip

    workflow = yaml.safe_load(done.stdout)
    assert list(workflow["jobs"]) == ["lint", "test", "security", "build"]
    security = workflow["jobs"]["security"]
    assert security["needs"] == ["test"]
    assert security["permissions"]["security-events"] == "write"
    steps = {step.get("name", step.get("uses")): step for step in security["steps"]}
    assert steps["codectl ci --stage security"]["run"] == "codectl ci --stage security"
    sarif = steps["Upload the SARIF report to code scanning"]
    assert sarif["with"]["sarif_file"] == "build/ci/bandit.sarif"
    python = workflow["jobs"]["lint"]["steps"][1]["with"]["python-version"]
    assert python == "3.12"
