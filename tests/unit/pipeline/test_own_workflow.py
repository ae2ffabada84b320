"""CODE's own CI is the workflow `codectl ci github` prints from code.yaml, and runs its
pipeline stage by stage through the make targets."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from code_engine.assess.tools import DEPENDENCY_SCAN
from code_engine.pipeline.run import plan
from code_engine.pipeline.workflow import github_workflow
from code_engine.spec import load_spec

ROOT = Path(__file__).resolve().parents[3]
SHA = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _generated() -> str:
    spec = load_spec(ROOT / "code.yaml")
    steps, _ = plan(ROOT, spec.service, spec.pipeline)
    return github_workflow(steps, spec.pipeline.github)


def test_the_committed_workflow_is_what_codectl_ci_github_prints() -> None:
    committed = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert committed == _generated(), "run `codectl ci github > .github/workflows/ci.yml`"


def test_the_workflow_pins_actions_by_commit_and_reads_only_by_default() -> None:
    workflow = yaml.safe_load(_generated())
    assert workflow["permissions"] == {"contents": "read"}
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses
    assert [u for u in uses if not SHA.match(u)] == []
    runs = " ".join(s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"])
    assert "${{ github.event" not in runs  # untrusted input reaches commands through env only
    assert "osv-scanner" not in runs  # the dependency scan is `make ci-security`'s
    assert DEPENDENCY_SCAN.search(runs)  # and the image's lock file's, which the assessment sees


def test_code_s_own_workflow_runs_every_stage_through_make_and_uploads_its_reports() -> None:
    spec = load_spec(ROOT / "code.yaml")
    steps, _ = plan(ROOT, spec.service, spec.pipeline)
    own = yaml.safe_load(_generated())
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
