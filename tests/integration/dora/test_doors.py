"""One history through every door gives the same four keys.

The same commits, deployments and incidents reach four services, each through one door:
the resource routes (deployments before the commits they delivered), one batch of events,
the webhooks (GitHub with commits from git, Alertmanager), and the delivery controller's
calls (a deployment recorded as it starts, then moved to its outcome). Each door writes
through the same writers, so the four keys are identical.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from code_engine.catalog.store import find_service
from code_engine.catalog.store import require_environment as find_environment
from code_engine.dora.deployments import DeploymentRecord
from code_engine.dora.github import signature
from code_engine.dora.recording import record_deployment, record_status
from code_engine.settings import Settings
from code_engine.store.engine import Database

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dora"
SECRET = "whsec-doors"  # pragma: allowlist secret
DAYS = ["2026-10-10", "2026-10-11", "2026-10-12", "2026-10-13", "2026-10-14"]
# (status, revision index, day): commits delivered are the git range since the last success
DEPLOYS = [
    ("succeeded", 1, "2026-10-15"),
    ("failed", 2, "2026-10-16"),
    ("succeeded", 3, "2026-10-17"),
    ("succeeded", 4, "2026-10-18"),
]
RANGES = [[0, 1], [2], [2, 3], [4]]
INCIDENTS = [("2026-10-16T09:20:00Z", "2026-10-16T11:20:00Z"), ("2026-10-18T10:00:00Z", None)]


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        env="dev", data_dir=data_dir, database_url=database_url, github_webhook_secret=SECRET
    )


def _git_repo(path: Path) -> list[str]:
    path.mkdir()

    def git(*args: str, day: str = DAYS[0]) -> str:
        stamp = f"{day}T08:00:00+00:00"
        env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        identity = ("-c", "user.name=t", "-c", "user.email=t@example.test")
        done = subprocess.run(
            ["git", *identity, "-C", str(path), *args],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    shas = []
    for n, day in enumerate(DAYS):
        (path / "CHANGES").write_text(f"change {n}\n")
        git("add", "-A")
        git("commit", "-q", "-m", f"feat: change {n}", day=day)
        shas.append(git("rev-parse", "HEAD"))
    return shas


def _at(day: str, time: str) -> str:
    return f"{day}T{time}Z"


def _commit(sha: str, n: int, service: str) -> dict[str, Any]:
    stamp = _at(DAYS[n], "08:00:00")
    return {
        "type": "commit",
        "id": sha,
        "service": service,
        "message": f"feat: change {n}",
        "authored_at": stamp,
        "committed_at": stamp,
    }


def _deployment(shas: list[str], n: int, service: str) -> dict[str, Any]:
    status, _, day = DEPLOYS[n]
    return {
        "type": "deployment",
        "id": f"{service}-deploy-{n}",
        "service": service,
        "environment": "prod",
        "status": status,
        "started_at": _at(day, "09:00:00"),
        "finished_at": _at(day, "09:10:00"),
        "commits": [shas[i] for i in RANGES[n]],
    }


def _incident(n: int, service: str) -> dict[str, Any]:
    opened, resolved = INCIDENTS[n]
    event = {
        "type": "incident",
        "id": f"{service}-incident-{n}",
        "service": service,
        "environment": "prod",
        "opened_at": opened,
        "title": "errors",
        "severity": "critical",
    }
    return event | ({"resolved_at": resolved} if resolved else {})


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _resource_routes(client: TestClient, headers: dict[str, str], shas: list[str]) -> None:
    service = "door-routes"
    for n in range(len(DEPLOYS)):  # deployments first: their commits arrive afterwards
        event = _deployment(shas, n, service)
        body = {
            "service": service,
            "environment": "prod",
            "version": shas[DEPLOYS[n][1]],
            "status": event["status"],
            "external_id": event["id"],
            "started_at": event["started_at"],
            "finished_at": event["finished_at"],
            "commits": event["commits"],
        }
        _ok(client.post("/api/v1/deployments", json=body, headers=headers))
    for n, sha in enumerate(shas):
        event = _commit(sha, n, service)
        body = {"service": service, "sha": sha, "message": event["message"]}
        body |= {"authored_at": event["authored_at"], "committed_at": event["committed_at"]}
        _ok(client.post("/api/v1/changes", json=body, headers=headers))
    _incidents_by_route(client, headers, service)


def _incidents_by_route(client: TestClient, headers: dict[str, str], service: str) -> None:
    for n in range(len(INCIDENTS)):
        event = _incident(n, service)
        body = {"service": service, "environment": "prod", "title": event["title"]}
        body |= {"severity": "critical", "external_id": event["id"]}
        body |= {"opened_at": event["opened_at"]}
        opened = _ok(client.post("/api/v1/incidents", json=body, headers=headers))
        if "resolved_at" in event:
            resolve = {"resolved_at": event["resolved_at"]}
            path = f"/api/v1/incidents/{opened['id']}/resolve"
            _ok(client.post(path, json=resolve, headers=headers))


def _batch(client: TestClient, headers: dict[str, str], shas: list[str]) -> None:
    service = "door-batch"
    events = [_deployment(shas, n, service) for n in range(len(DEPLOYS))]
    events += [_incident(n, service) for n in range(len(INCIDENTS))]
    events += [_commit(sha, n, service) for n, sha in enumerate(shas)]
    _ok(client.post("/api/v1/events", json={"events": events}, headers=headers))


def _webhooks(client: TestClient, headers: dict[str, str], shas: list[str]) -> None:
    service = "door-webhooks"
    template = json.loads((FIXTURES / "github_deployment_status.json").read_text())
    for n in (2, 0, 3, 1):  # out of order: git ranges are recomputed as earlier ones land
        status, revision, day = DEPLOYS[n]
        payload = copy.deepcopy(template)
        payload["deployment"] |= {"id": 5000 + n, "sha": shas[revision]}
        payload["deployment"] |= {"created_at": _at(day, "09:00:00"), "payload": {}}
        payload["deployment"]["payload"] = {"service": service}
        payload["deployment_status"]["state"] = "success" if status == "succeeded" else "failure"
        payload["deployment_status"]["created_at"] = _at(day, "09:10:00")
        body = json.dumps(payload).encode()
        sent = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "deployment_status",
            "X-Hub-Signature-256": signature(SECRET.encode(), body),
        }
        _ok(client.post("/api/v1/webhooks/github", content=body, headers=sent))
    alerts = json.loads((FIXTURES / "alertmanager_firing.json").read_text())
    for n, (opened, resolved) in enumerate(INCIDENTS):
        alert = copy.deepcopy(alerts["alerts"][0])
        alert["labels"] |= {"service": service, "severity": "critical"}
        alert |= {"fingerprint": f"f{n}", "startsAt": opened}
        payload = alerts | {"alerts": [alert], "status": "firing"}
        _ok(client.post("/api/v1/webhooks/alertmanager", json=payload, headers=headers))
        if resolved:
            alert |= {"status": "resolved", "endsAt": resolved}
            payload = alerts | {"alerts": [alert], "status": "resolved"}
            _ok(client.post("/api/v1/webhooks/alertmanager", json=payload, headers=headers))
    commits = [_commit(sha, n, service) for n, sha in enumerate(shas)]
    _ok(client.post("/api/v1/events", json={"events": commits}, headers=headers))


def _controller(
    client: TestClient, headers: dict[str, str], shas: list[str], database: Database
) -> None:
    """What `deploy.service` writes when a rollout starts and the controller as it ends."""
    service = "door-controller"
    for n in range(len(DEPLOYS)):
        event = _deployment(shas, n, service)
        with database.session() as session:
            found = find_service(session, service)
            assert found is not None
            env = find_environment(session, found.id, "prod")
            row, _ = record_deployment(
                session,
                DeploymentRecord(
                    service_id=found.id,
                    environment_id=env.id,
                    version=shas[DEPLOYS[n][1]],
                    status="pending",
                    created_at=datetime.fromisoformat(event["started_at"]),
                    commits=event["commits"],
                ),
            )
            deployment_id = row.id
        with database.session() as session:
            row = session.get(type(row), deployment_id)
            assert row is not None
            record_status(
                session,
                row,
                status=event["status"],
                started_at=datetime.fromisoformat(event["started_at"]),
                finished_at=datetime.fromisoformat(event["finished_at"]),
            )
    for n, sha in enumerate(shas):
        event = _commit(sha, n, service)
        body = {"service": service, "sha": sha, "message": event["message"]}
        body |= {"authored_at": event["authored_at"], "committed_at": event["committed_at"]}
        _ok(client.post("/api/v1/changes", json=body, headers=headers))
    _incidents_by_route(client, headers, service)


def test_every_door_gives_the_same_four_keys(
    client: TestClient, admin_headers: dict[str, str], database: Database, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    shas = _git_repo(repo)
    doors = ["door-routes", "door-batch", "door-webhooks", "door-controller"]
    for name in doors:
        body = {"name": name, "repo": str(repo) if name == "door-webhooks" else ""}
        _ok(client.post("/api/v1/services", json=body, headers=admin_headers))
    _resource_routes(client, admin_headers, shas)
    _batch(client, admin_headers, shas)
    _webhooks(client, admin_headers, shas)
    _controller(client, admin_headers, shas, database)

    window = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    keys = {}
    for name in doors:
        shown = _ok(client.get("/api/v1/metrics/dora", params={**window, "service": name},
                               headers=admin_headers))  # fmt: skip
        assert shown["bands"]["year"] == 2024
        [report] = shown["services"]
        keys[name] = {k: v for k, v in report.items() if k != "service"}
    metrics = keys["door-batch"]["metrics"]
    # every commit's start is known however late it came, every deployment is counted
    assert metrics["lead_time"]["details"] == {
        "median_hours": 97 + 1 / 6,
        "p90_hours": 121 + 1 / 6,
        "commits": 5.0,
        "unmatched_commits": 0.0,
    }
    assert metrics["change_failure_rate"]["details"]["deployments"] == 4.0
    reference = keys["door-batch"]
    assert all(keys[name] == reference for name in doors), keys
