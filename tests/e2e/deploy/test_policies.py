"""Policies on the real server and command line: the example policies refuse what they
should with their messages (403 + audit event, a clear CLI line), allow what they should,
a policy that fails to evaluate refuses, and unparsable Rego stops the server at load."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from itertools import count
from pathlib import Path

import httpx
import jsonschema
from tests.support.git import git
from tests.support.pipeline_runs import passing_run

import code_engine.policy

from .harness import ENTRY, Engine, ServiceRepo

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "policies"
SCHEMA = json.loads(
    (Path(code_engine.policy.__file__).parent / "input.schema.json").read_text(encoding="utf-8")
)
_names = count(1)


def _service(
    engine: Engine,
    tmp_path: Path,
    files: dict[str, str],
    query: str,
    release: bool = True,
    approval: bool = False,
    qualified: bool = True,
) -> ServiceRepo:
    """A service whose code.yaml lists `policies/` with `query`, released as v1."""
    name = f"policy{next(_names)}"
    service = ServiceRepo(tmp_path / name, name)
    service.create(engine)
    service.write("v1", "[{set_weight: 50}]")
    (service.path / "policies").mkdir()
    for file, text in files.items():
        (service.path / "policies" / file).write_text(text)
    spec = service.path / "code.yaml"
    text = spec.read_text() + f"policies:\n  - path: policies/\n    query: {query}\n"
    # An unqualified release is left to the policies to refuse: the pipeline's own gate
    # (protection.requires_pipeline) is turned off for it.
    protection = (
        f"{{approval: {str(approval).lower()}, requires_pipeline: {str(qualified).lower()}}}"
    )
    prod = "  - name: prod\n"
    text = text.replace(prod, prod + f"    protection: {protection}\n")
    spec.write_text(text)
    git(service.path, "add", "-A")
    git(service.path, "commit", "-q", "--amend", "--no-edit")
    if release:
        sha = git(service.path, "rev-parse", "HEAD")
        if qualified:
            engine.api("POST", "/api/v1/pipeline/runs", passing_run(name, sha))
        engine.api("POST", "/api/v1/releases", {"service": name, "version": "v1", "sha": sha})
    return service


def _deploy(engine: Engine, service: ServiceRepo) -> httpx.Response:
    body = {"service": service.name, "environment": "prod", "version": "v1", "run": True}
    headers = {"Authorization": f"Bearer {engine.token}"}
    return httpx.post(f"{engine.url}/api/v1/deployments", json=body, headers=headers, timeout=60)


def _frozen_today() -> str:
    today = datetime.now(timezone.utc).date().isoformat()
    source = (EXAMPLES / "change_freeze.rego").read_text()
    return source.replace('"2026-12-21", "to": "2027-01-03"', f'"{today}", "to": "{today}"')


def test_a_declared_freeze_refuses_through_the_api_and_the_cli(
    engine: Engine, tmp_path: Path
) -> None:
    service = _service(
        engine, tmp_path, {"change_freeze.rego": _frozen_today()}, "data.code.change_freeze.deny"
    )
    response = _deploy(engine, service)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "policy_denied"
    assert error["message"] == "deploy refused by policy"
    assert error["details"][0]["field"] == "policies/"
    assert "year-end freeze" in error["details"][0]["message"]

    cli = engine.cli("deploy", "prod", "--version", "v1", "--service", service.name)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "deploy refused by policy" in cli.stderr
    assert "year-end freeze" in cli.stderr

    audit = engine.api("GET", "/api/v1/audit", action="policy.deny.deploy")
    assert any(e["resource"].startswith(f"service/{service.name}/") for e in audit["items"])
    status = engine.api("GET", "/api/v1/deployments/status", service=service.name)
    assert all(row["active"] is None for row in status)  # nothing was started


def test_prod_readiness_refuses_an_unqualified_release_and_eval_shows_why(
    engine: Engine, tmp_path: Path
) -> None:
    policy = {"prod_readiness.rego": (EXAMPLES / "prod_readiness.rego").read_text()}
    service = _service(engine, tmp_path, policy, "data.code.prod_readiness.deny", qualified=False)
    response = _deploy(engine, service)
    assert response.status_code == 403
    messages = {d["message"] for d in response.json()["error"]["details"]}
    assert messages == {
        "release v1 is not qualified (qualification: unknown)",
        "no maturity assessment recorded: run codectl assess and record it",
    }
    shown = engine.cli(
        "policy", "eval", "--action", "deploy", "--env", "prod", "--version", "v1",
        "--service", service.name, "-o", "json",
    )  # fmt: skip
    assert shown.returncode == 1, shown.stderr
    decision = json.loads(shown.stdout)
    assert decision["allowed"] is False
    assert decision["input"]["release"]["qualification"] == {"status": "unknown"}
    assert decision["input"]["environment"]["name"] == "prod"
    jsonschema.Draft202012Validator(SCHEMA).validate(decision["input"])
    # the same question about staging-like actions the policy leaves alone is allowed
    rollback = engine.cli(
        "policy", "eval", "--action", "rollback", "--env", "prod", "--service", service.name
    )
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert "rollback: allowed" in rollback.stdout


def test_four_eyes_refuses_a_self_approval_from_the_cli(engine: Engine, tmp_path: Path) -> None:
    policy = {"four_eyes.rego": (EXAMPLES / "four_eyes.rego").read_text()}
    service = _service(engine, tmp_path, policy, "data.code.four_eyes.deny", approval=True)
    response = _deploy(engine, service)
    assert response.status_code == 201, response.text
    deployment = response.json()
    assert deployment["status"] == "awaiting_approval"
    approved = engine.cli("approve", "prod", "--service", service.name)
    assert approved.returncode == 1, approved.stdout + approved.stderr
    assert "approve refused by policy" in approved.stderr
    requester = deployment["created_by"]
    expected = f"{requester} requested deployment {deployment['id']} and cannot approve it"
    assert expected in approved.stderr
    evaluated = engine.api(
        "POST",
        "/api/v1/policy/evaluate",
        {"service": service.name, "action": "approve", "environment": "prod"},
    )
    jsonschema.Draft202012Validator(SCHEMA).validate(evaluated["input"])
    assert evaluated["input"]["deployment"]["requested_by"] == requester
    aborted = engine.cli("abort", "prod", "--service", service.name)
    assert aborted.returncode == 0, aborted.stderr


def test_four_eyes_allows_a_deploy_and_the_deployment_runs(engine: Engine, tmp_path: Path) -> None:
    policy = {"four_eyes.rego": (EXAMPLES / "four_eyes.rego").read_text()}
    service = _service(engine, tmp_path, policy, "data.code.four_eyes.deny")
    response = _deploy(engine, service)
    assert response.status_code == 201, response.text
    assert engine.wait(response.json()["id"])["status"] == "succeeded"


def test_a_policy_that_fails_to_evaluate_refuses(engine: Engine, tmp_path: Path) -> None:
    conflict = (
        'package code.broken\n\nimport rego.v1\n\nowner := "a"\n\nowner := input.action\n\n'
        "deny contains msg if {\n\tmsg := owner\n\tfalse\n}\n"
    )
    files = {"broken.rego": conflict}
    service = _service(engine, tmp_path, files, "data.code.broken.deny", release=False)
    body = {"service": service.name, "version": "v1"}
    headers = {"Authorization": f"Bearer {engine.token}"}
    response = httpx.post(f"{engine.url}/api/v1/releases", json=body, headers=headers)
    assert response.status_code == 403, response.text  # fail closed, even for a release
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "policies/"
    assert detail["message"].startswith("data.code.broken.deny: ")


def test_unparsable_operator_policy_stops_the_server_at_load(
    engine: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "ops.rego"
    bad.write_text("package code\n\nimport rego.v1\n\ndeny contains msg if {\n  msg :=\n}\n")
    env = {**engine.env(), "CODE_POLICY_PATHS": str(bad), "CODE_DATA_DIR": str(tmp_path / "d")}
    env["CODE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'code.db'}"
    started = subprocess.run(  # noqa: S603
        [sys.executable, str(ENTRY), "server", "--no-worker", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 2, started.stdout + started.stderr
    assert f"{bad}:6:" in started.stderr
