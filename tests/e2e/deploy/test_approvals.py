"""Approvals on the real server and worker: a prod deployment waits, untouched by the worker,
until a second person approves it from the command line; a rejected one never runs."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import count
from pathlib import Path

import httpx
from tests.support.git import git
from tests.support.waiting import holds_for

from .harness import ENTRY, Engine, ServiceRepo, wait_until

STEPS = "[{set_weight: 50}]"
_names = count(1)


def _git(service: ServiceRepo, *args: str) -> str:
    return git(service.path, *args)


def _release(engine: Engine, service: ServiceRepo, version: str) -> None:
    """Commit `version` with prod asking for an approval, and record its release."""
    service.write(version, STEPS)
    spec = service.path / "code.yaml"
    prod = "  - name: prod\n"
    spec.write_text(spec.read_text().replace(prod, prod + "    protection: {approval: true}\n"))
    _git(service, "commit", "-q", "--amend", "--no-edit", "code.yaml")
    sha = _git(service, "rev-parse", "HEAD")
    service.qualify(engine, sha)
    engine.api(
        "POST", "/api/v1/releases", {"service": service.name, "version": version, "sha": sha}
    )


def _second_person(engine: Engine) -> str:
    """A client bound to prod as deployer: someone else than the engine's admin client."""
    name = f"approver{next(_names)}"
    made = engine.cli("clients", "create", name, "--role", "deployer:prod", "-o", "json")
    assert made.returncode == 0, made.stderr
    secret = json.loads(made.stdout)["client_secret"]
    form = {"grant_type": "client_credentials", "client_id": name, "client_secret": secret}
    return str(httpx.post(f"{engine.url}/oauth/token", data=form).json()["access_token"])


def _as(engine: Engine, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**engine.env(), "CODE_TOKEN": token}
    return subprocess.run(  # noqa: S603
        [sys.executable, str(ENTRY), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _stays_waiting(engine: Engine, service: ServiceRepo, deployment_id: int) -> None:
    """For ten worker ticks (it polls every 0.2 s), nothing of the deployment starts."""

    def untouched() -> bool:
        waiting = engine.deployment(deployment_id)
        return (
            waiting["status"] == "awaiting_approval"
            and waiting["started_at"] is None
            and waiting["version"] not in engine.instances(service.name, "prod")
        )

    holds_for(untouched, 2.0, f"deployment {deployment_id} awaiting approval, untouched")


def _approve(engine: Engine, token: str, deployment_id: int) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    path = f"{engine.url}/api/v1/deployments/{deployment_id}/approve"
    return httpx.post(path, json={"comment": "ship it"}, headers=headers, timeout=60)


def test_prod_runs_only_what_a_second_person_approved(engine: Engine, tmp_path: Path) -> None:
    service = ServiceRepo(tmp_path / "repo", f"approved{next(_names)}")
    service.create(engine)
    opts = ("--service", service.name)
    approver = _second_person(engine)

    _release(engine, service, "v1")
    first = service.deploy(engine, "v1")
    _stays_waiting(engine, service, first)
    own = engine.cli("approve", "prod", *opts)
    assert own.returncode == 2 and "a second person must approve it" in own.stderr
    approved = _as(engine, approver, "approve", "prod", "-m", "first", "--watch", *opts)
    assert approved.returncode == 0, approved.stderr
    assert engine.deployment(first)["status"] == "succeeded"  # --watch followed the rollout
    assert service.serving() == "v1"

    _release(engine, service, "v2")
    asked = engine.cli("deploy", "prod", "--version", "v2", "--watch", *opts, "-o", "json")
    assert asked.returncode == 0, asked.stderr  # nothing to follow until someone approves
    assert "awaits approval" in asked.stderr
    second = int(json.loads(asked.stdout)["id"])
    _stays_waiting(engine, service, second)
    assert engine.weights(service.name, "prod") == {"v1": 100}  # v1 keeps serving alone
    assert service.serving() == "v1"
    assert _approve(engine, engine.token, second).status_code == 403  # the requester
    response = _approve(engine, approver, second)
    assert response.status_code == 200, response.text
    done = engine.wait(second)
    assert done["status"] == "succeeded", done["message"]
    assert done["strategy"] == "canary" and done["reviewed_by"] == response.json()["reviewed_by"]
    reasons = [e.get("reason") for e in done["events"]]
    assert reasons[:2] == ["approval required", "approved"]  # then the controller's own
    assert service.serving() == "v2"

    _release(engine, service, "v3")
    third = service.deploy(engine, "v3")
    rejected = _as(engine, approver, "reject", "prod", "-m", "not on a Friday", *opts)
    assert rejected.returncode == 0, rejected.stderr
    wait_until(lambda: engine.deployment(third)["status"] == "rejected", 30, "the rejection")
    assert "v3" not in engine.instances(service.name, "prod")
    assert service.serving() == "v2"

    history = engine.cli("history", "prod", *opts, "-o", "json")
    rows = [(d["version"], d["status"], d["reviewed_by"]) for d in json.loads(history.stdout)]
    reviewer = done["reviewed_by"]
    assert rows == [
        ("v3", "rejected", reviewer),
        ("v2", "succeeded", reviewer),
        ("v1", "succeeded", reviewer),
    ]
