"""`codectl render`, `codectl diff` and `codectl check-manifests` through the CLI's entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.git import git
from tests.support.kubernetes import bare_remote

from code_engine.cli import main

ROOT = Path(__file__).resolve().parents[3]
Done = subprocess.CompletedProcess[str]


@pytest.fixture
def codectl(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Done]:
    """`codectl ARGS` in this process, through its entry point and error boundary."""

    def invoke(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Done:
        with monkeypatch.context() as patch:
            patch.chdir(cwd)
            patch.setenv("NO_COLOR", "1")
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            try:
                main.run(list(args))
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, captured.out, captured.err)

    return invoke


def test_the_installed_command_renders(service: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "code_engine",
            "render",
            "staging",
            "-v",
            "3.1.0",
            "-f",
            str(service / "code.yaml"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "kind: Rollout" in done.stdout and "image: ghcr.io/acme/shop:3.1.0" in done.stdout


def test_render_prints_the_validated_manifests(service: Path, codectl: Callable[..., Done]) -> None:
    done = codectl("render", "staging", "--version", "3.1.0", "-f", str(service / "code.yaml"))
    assert done.returncode == 0, done.stderr
    assert "kind: Rollout" in done.stdout and "image: ghcr.io/acme/shop:3.1.0" in done.stdout
    as_json = codectl(
        "render", "prod", "-v", "3.1.0", "-f", str(service / "code.yaml"), "-o", "json"
    )
    payload = json.loads(as_json.stdout)
    assert payload["image"] == "ghcr.io/acme/shop:3.1.0"
    sources = {(o["object"]["kind"], o["source"]) for o in payload["objects"]}
    assert ("Rollout", "deploy/k8s/base/deployment.yaml") in sources


def test_render_refuses_bad_input_with_exit_2(
    service: Path, tmp_path: Path, codectl: Callable[..., Done]
) -> None:
    spec = str(service / "code.yaml")
    deployment = service / "deploy/k8s/base/deployment.yaml"
    deployment.write_text(deployment.read_text().replace("containerPort:", "containerPrt:"))
    invalid = codectl("render", "staging", "-v", "1.0.0", "-f", spec)
    assert invalid.returncode == 2
    assert (
        "deploy/k8s/base/deployment.yaml: Rollout/shop: "
        "spec.template.spec.containers[0].ports[0].containerPrt: unknown field" in invalid.stderr
    )
    assert invalid.stdout == ""
    no_kubectl = codectl(
        "render", "staging", "-v", "1.0.0", "-f", spec, env={"CODE_KUBECTL": str(tmp_path / "x")}
    )
    assert no_kubectl.returncode == 2 and "no executable kubectl there" in no_kubectl.stderr
    local = codectl("render", "dev", "-v", "1.0.0", "-f", spec)
    assert local.returncode == 2 and "targets local" in local.stderr
    unversioned = codectl("render", "staging", "-f", spec)
    assert unversioned.returncode == 2 and "give --version" in unversioned.stderr


def test_render_defaults_to_the_commit_at_head(service: Path, codectl: Callable[..., Done]) -> None:
    git(service, "init", "-q", "-b", "main")
    git(service, "add", ".")
    git(service, "commit", "-q", "-m", "feat: shop")
    head = git(service, "rev-parse", "--short=12", "HEAD")
    done = codectl("render", "staging", "-f", str(service / "code.yaml"), "-o", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["image"] == f"ghcr.io/acme/shop:{head}"


def test_diff_shows_what_the_next_deploy_changes(
    service: Path, tmp_path: Path, codectl: Callable[..., Done]
) -> None:
    bare_remote(tmp_path / "gitops.git")
    env = {"CODE_DATA_DIR": str(tmp_path / "data")}
    spec = str(service / "code.yaml")
    done = codectl("diff", "staging", "-v", "1.0.0", "-f", spec, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("--- /dev/null\n+++ b/apps/shop/staging/manifests.yaml\n")
    assert "+        image: ghcr.io/acme/shop:1.0.0" in done.stdout
    as_json = json.loads(
        codectl("diff", "staging", "-v", "1.0.0", "-f", spec, "-o", "json", env=env).stdout
    )
    assert as_json["changed"] is True and as_json["branch"] == "main"
    (tmp_path / "gitops.git").rename(tmp_path / "gone.git")
    gone = codectl("diff", "staging", "-v", "1.0.0", "-f", spec, env=env)
    assert gone.returncode == 2 and "git fetch failed" in gone.stderr


def test_check_manifests_validates_code_s_own_deploy_directories(
    codectl: Callable[..., Done],
) -> None:
    done = codectl("check-manifests", "deploy/k8s/overlays/prod", "deploy/argocd")
    assert done.returncode == 0, done.stderr
    assert "deploy/argocd: 4 objects valid (AppProject, Application)" in done.stdout
    own = codectl("render", "prod", "--version", "0.1.0", "-o", "json")
    assert own.returncode == 0, own.stderr
    kinds = [item["object"]["kind"] for item in json.loads(own.stdout)["objects"]]
    assert kinds.count("Rollout") == 1 and kinds.count("AnalysisTemplate") == 2


def test_check_manifests_names_an_invalid_object(
    service: Path, codectl: Callable[..., Done]
) -> None:
    hpa = service / "deploy/k8s/base/hpa.yaml"
    hpa.write_text(hpa.read_text().replace("minReplicas: 2", "minReplicas: two"))
    done = codectl("check-manifests", "deploy/k8s/base", cwd=service)
    assert done.returncode == 2
    assert (
        "deploy/k8s/base/hpa.yaml: HorizontalPodAutoscaler/shop: spec.minReplicas: "
        "'two' is not of type 'integer'" in done.stderr
    )
