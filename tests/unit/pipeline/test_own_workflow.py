"""CODE's own CI runs its pipeline stage by stage, as `codectl ci github` would."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from code_engine.pipeline.run import plan
from code_engine.pipeline.workflow import github_workflow
from code_engine.spec import load_spec

ROOT = Path(__file__).resolve().parents[3]


def test_the_generated_workflow_runs_each_stage_and_uploads_junit_and_sarif() -> None:
    spec = load_spec(ROOT / "code.yaml")
    steps, _ = plan(ROOT, spec.service, spec.pipeline)
    workflow = yaml.safe_load(github_workflow(steps))

    assert list(workflow["jobs"]) == ["lint", "test", "security", "build"]
    assert workflow["jobs"]["build"]["needs"] == ["security"]
    runs = {job: [s.get("run") for s in body["steps"]] for job, body in workflow["jobs"].items()}
    assert all(f"codectl ci --stage {job}" in commands for job, commands in runs.items())
    uses = [s.get("uses", "") for s in workflow["jobs"]["security"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)
    test_paths = [s.get("with", {}).get("path") for s in workflow["jobs"]["test"]["steps"]]
    assert "build/ci/junit.xml" in test_paths


def test_code_s_own_workflow_runs_every_stage_through_make_and_uploads_its_reports() -> None:
    spec = load_spec(ROOT / "code.yaml")
    steps, _ = plan(ROOT, spec.service, spec.pipeline)
    own = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    makefile = (ROOT / "Makefile").read_text()
    commands = " ".join(
        str(step.get("run", "")) for job in own["jobs"].values() for step in job["steps"]
    )
    uploaded = " ".join(
        str(step.get("with", {})) for job in own["jobs"].values() for step in job["steps"]
    )
    for stage in ("lint", "test", "security", "build"):
        assert f"make ci-{stage}" in commands
        assert re.search(
            rf"^ci-{stage}:.*\n\t\$\(BIN\)/codectl ci --stage {stage} --verbose$", makefile, re.M
        )
    for step in steps:
        for kind, path in step.reports:
            if kind in ("junit", "sarif"):
                assert path in uploaded, f"{step.name}'s {kind} report {path} is not uploaded"
