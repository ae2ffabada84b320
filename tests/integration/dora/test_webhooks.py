"""Real payloads of GitHub, Alertmanager and Argo CD through the real HTTP routes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from code_engine.api.app import runtime_of
from code_engine.dora.github import signature
from code_engine.settings import Settings

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dora"
SECRET = "whsec-checkout-api-7f3a"


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        env="dev", data_dir=data_dir, database_url=database_url, github_webhook_secret=SECRET
    )


def _service(client: TestClient, headers: dict[str, str], repo: str = "") -> None:
    body = {"name": "checkout-api", "repo": repo}
    assert client.post("/api/v1/services", json=body, headers=headers).status_code == 201


def _github(client: TestClient, body: bytes, *, sign: bytes | None = None, **headers: str) -> Any:
    sent = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "deployment_status",
        "X-Hub-Signature-256": signature(SECRET.encode(), sign if sign is not None else body),
        **headers,
    }
    return client.post("/api/v1/webhooks/github", content=body, headers=sent)


def _deployments(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/api/v1/deployments", headers=headers).json()["items"]
    return items


def test_signed_github_delivery_records_the_deployment(client: TestClient, admin_headers) -> None:
    _service(client, admin_headers)
    body = (FIXTURES / "github_deployment_status.json").read_bytes()
    response = _github(client, body)
    assert response.status_code == 200, response.text
    assert response.json()["created"]["deployment"] == 1
    [deployment] = _deployments(client, admin_headers)
    assert deployment["external_id"] == "github:1873442210"
    assert (deployment["environment"], deployment["status"]) == ("prod", "succeeded")
    assert deployment["finished_at"].startswith("2024-06-11T12:52:09")
    detail = client.get(f"/api/v1/deployments/{deployment['id']}", headers=admin_headers).json()
    assert detail["commits"] == ["3f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e"]
    again = _github(client, body).json()
    assert again["created"]["deployment"] == 0 and len(_deployments(client, admin_headers)) == 1


def test_tampered_or_unsigned_github_delivery_is_refused(client: TestClient, admin_headers) -> None:
    _service(client, admin_headers)
    body = (FIXTURES / "github_deployment_status.json").read_bytes()
    tampered = body.replace(b'"state": "success"', b'"state": "failure"')
    assert tampered != body
    response = _github(client, tampered, sign=body)
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["error"]["message"]
    unsigned = client.post(
        "/api/v1/webhooks/github",
        content=body,
        headers={"X-GitHub-Event": "deployment_status", "Content-Type": "application/json"},
    )
    assert unsigned.status_code == 401
    assert _deployments(client, admin_headers) == []


def test_github_webhooks_are_refused_without_a_secret(client: TestClient, admin_headers) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    runtime.settings = runtime.settings.model_copy(update={"github_webhook_secret": SecretStr("")})
    _service(client, admin_headers)
    body = (FIXTURES / "github_deployment_status.json").read_bytes()
    response = _github(client, body)
    assert response.status_code == 403
    assert "CODE_GITHUB_WEBHOOK_SECRET" in response.json()["error"]["message"]


def test_github_pings_and_unfinished_states_are_acknowledged(
    client: TestClient, admin_headers
) -> None:
    _service(client, admin_headers)
    ping = _github(client, b'{"zen": "Design for failure."}', **{"X-GitHub-Event": "ping"})
    assert ping.status_code == 200 and ping.json()["received"] == 0
    payload = json.loads((FIXTURES / "github_deployment_status.json").read_bytes())
    payload["deployment_status"]["state"] = "in_progress"
    pending = _github(client, json.dumps(payload).encode())
    assert pending.status_code == 200 and pending.json()["ignored"]
    assert _deployments(client, admin_headers) == []


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_DATE": "2024-06-10T09:00:00Z", "GIT_COMMITTER_DATE": "2024-06-10T09:00:00Z"}
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "PATH": "/usr/bin:/bin", "HOME": str(repo)},
    )
    return result.stdout.strip()


def test_commits_come_from_git_in_any_arrival_order(
    client: TestClient, admin_headers, tmp_path: Path
) -> None:
    repo = tmp_path / "checkout-api"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    shas = []
    for n in range(4):
        (repo / "f.txt").write_text(str(n))
        _git(repo, "add", "f.txt")
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", f"c{n}")
        shas.append(_git(repo, "rev-parse", "HEAD"))
    _service(client, admin_headers, repo=str(repo))
    template = json.loads((FIXTURES / "github_deployment_status.json").read_bytes())

    def deliver(deployment_id: int, sha: str, finished: str) -> None:
        template["deployment"].update(id=deployment_id, sha=sha, created_at=finished)
        template["deployment_status"]["created_at"] = finished
        assert _github(client, json.dumps(template).encode()).status_code == 200

    deliver(2, shas[3], "2024-06-12T10:00:00Z")  # the later deployment arrives first
    deliver(1, shas[1], "2024-06-11T10:00:00Z")
    by_id = {d["external_id"]: d["id"] for d in _deployments(client, admin_headers)}

    def commits(external_id: str) -> list[str]:
        url = f"/api/v1/deployments/{by_id[external_id]}"
        return sorted(client.get(url, headers=admin_headers).json()["commits"])

    assert commits("github:1") == sorted(shas[:2])
    assert commits("github:2") == sorted(shas[2:])


def _post(client: TestClient, path: str, name: str, headers: dict[str, str]) -> Any:
    body = json.loads((FIXTURES / name).read_bytes())
    return client.post(f"/api/v1/webhooks/{path}", json=body, headers=headers)


@pytest.mark.parametrize("order", [("firing", "resolved"), ("resolved", "firing")])
def test_alertmanager_firing_opens_and_resolved_closes(
    client: TestClient, admin_headers, make_token, order: tuple[str, str]
) -> None:
    _service(client, admin_headers)
    viewer = {"Authorization": f"Bearer {make_token('viewer')}"}
    assert _post(client, "alertmanager", "alertmanager_firing.json", viewer).status_code == 403
    developer = {"Authorization": f"Bearer {make_token('developer')}"}
    for state in order:
        response = _post(client, "alertmanager", f"alertmanager_{state}.json", developer)
        assert response.status_code == 200, response.text
    [incident] = client.get("/api/v1/incidents", headers=admin_headers).json()["items"]
    assert incident["external_id"].startswith("alertmanager:5e8c0b6a1d2f3e47@")
    assert incident["opened_at"].startswith("2024-06-11T13:04:39")
    assert incident["resolved_at"].startswith("2024-06-11T13:41:09")
    assert incident["source"] == "alertmanager"


def test_argocd_notifications_need_deployer_on_the_environment(
    client: TestClient, admin_headers, make_token
) -> None:
    _service(client, admin_headers)
    developer = {"Authorization": f"Bearer {make_token('developer')}"}
    assert _post(client, "argocd", "argocd_deployed.json", developer).status_code == 403
    deployer = {"Authorization": f"Bearer {make_token('developer', 'deployer:prod')}"}
    for name in ("argocd_deployed.json", "argocd_sync_failed.json"):
        response = _post(client, "argocd", name, deployer)
        assert response.status_code == 200, response.text
    statuses = {d["external_id"]: d["status"] for d in _deployments(client, admin_headers)}
    assert statuses == {
        "argocd:prod:checkout-api@2024-06-11T12:47:02Z": "succeeded",
        "argocd:prod:checkout-api@2024-06-12T08:10:44Z": "failed",
    }
    window = {
        "service": "checkout-api",
        "from": "2024-06-10T00:00:00Z",
        "to": "2024-06-13T00:00:00Z",
    }
    metrics = client.get("/api/v1/metrics/dora", params=window, headers=admin_headers).json()
    [service] = metrics["services"]
    rate = service["metrics"]["change_failure_rate"]
    assert (rate["value"], rate["band"], rate["passed"]) == (50.0, "low", False)
    recovery = service["metrics"]["time_to_restore"]
    assert recovery["value"] is None and recovery["details"]["failed_deployments"] == 0.0


def test_unknown_services_are_skipped_not_refused(client: TestClient, make_token) -> None:
    developer = {"Authorization": f"Bearer {make_token('developer')}"}
    response = _post(client, "alertmanager", "alertmanager_firing.json", developer)
    assert response.status_code == 200
    assert response.json()["ignored"] == ["events.0.service: no service named 'checkout-api'"]
