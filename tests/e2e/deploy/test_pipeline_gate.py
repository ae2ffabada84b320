"""`protection.requires_pipeline` on the real server: prod refuses an unqualified release
through the CLI and the API, names the failed gates, and takes it once a run passed."""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path

import httpx

from .harness import Engine, ServiceRepo, passing_run

_names = count(1)


def test_prod_refuses_an_unqualified_release_through_the_cli_and_the_api(
    engine: Engine, tmp_path: Path
) -> None:
    service = ServiceRepo(tmp_path / "repo", f"gated{next(_names)}", ("prod",))
    service.create(engine)
    opts = ("--spec", str(service.path / "code.yaml"))
    sha = service.write("v1", "[{set_weight: 50}]")
    created = engine.cli("release", "create", "--version", "v1", *opts, "-o", "json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["qualified"] is False

    refused = engine.cli("deploy", "prod", "--version", "v1", *opts)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: 403: 'prod' requires a passing pipeline (protection.requires_pipeline): "
        f"release v1 is not qualified: no passing pipeline run for commit {sha}"
    )
    body = {"service": service.name, "environment": "prod", "version": "v1", "run": True}
    headers = {"Authorization": f"Bearer {engine.token}"}
    answer = httpx.post(f"{engine.url}/api/v1/deployments", json=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"

    failed = passing_run(service.name, sha)
    failed["status"] = "failed"
    failed["gates"] = [
        {"name": "coverage", "threshold": "> 80", "measured": "64.2", "verdict": "failed"},
        {"name": "vulnerabilities", "threshold": "0 critical", "measured": None,
         "verdict": "failed", "reason": "report absent: build/deps.json"},
    ]  # fmt: skip
    engine.api("POST", "/api/v1/pipeline/runs", failed)
    gated = engine.cli("deploy", "prod", "--version", "v1", *opts)
    assert gated.returncode == 2
    assert (
        "failed gates: coverage (measured 64.2, threshold > 80), "
        "vulnerabilities (report absent: build/deps.json)"
    ) in gated.stderr

    service.qualify(engine, sha)
    deployed = engine.cli("deploy", "prod", "--version", "v1", "--watch", *opts)
    assert deployed.returncode == 0, deployed.stderr
    assert service.serving("prod") == "v1"
