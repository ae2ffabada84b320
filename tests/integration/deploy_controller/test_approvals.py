"""Approvals over the API: prod (`protection.approval`) holds each deployment until a second
person who may deploy there approves it; rejecting or aborting ends it without running."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.conftest import FrozenClock

from code_engine.clock import Clock
from code_engine.store.engine import Database
from code_engine.store.tables import DeploymentRow
from code_engine.worker import Worker, WorkerConfig

from .conftest import Repo

H = dict[str, str]
SPEC = """\
service: shop
repo: .
environments:
  - name: staging
    target: {kind: local, command: "serve --port {port}"}
  - name: prod
    target: {kind: local, command: "serve --port {port}"}
    protection:
      approval: true
      deployers: [alice, bob, carol, "deployer:prod"]
      requires_pipeline: false  # what these tests gate is the approval
"""


@pytest.fixture
def shop(client: TestClient, admin_headers: H, repo: Repo) -> Repo:
    repo.commit("feat: first", SPEC)
    body = {"name": "shop", "repo": str(repo.path)}
    assert client.post("/api/v1/services", json=body, headers=admin_headers).status_code == 201
    body = {"service": "shop", "version": "1.0.0"}
    assert client.post("/api/v1/releases", json=body, headers=admin_headers).status_code == 201
    return repo


@pytest.fixture
def people(make_token: Any) -> dict[str, H]:
    def bearer(*roles: str, name: str) -> H:
        return {"Authorization": f"Bearer {make_token(*roles, name=name)}"}

    return {
        "alice": bearer("deployer:prod", name="alice"),  # asks for the deployments
        "bob": bearer("deployer:prod", name="bob"),
        "carol": bearer("deployer:staging", name="carol"),  # listed, but not bound to prod
        "mallory": bearer("deployer", name="mallory"),  # a deployer code.yaml does not list
        "victor": bearer("viewer", name="victor"),
    }


def deploy(client: TestClient, headers: H, environment: str = "prod") -> Any:
    body = {"service": "shop", "environment": environment, "version": "1.0.0", "run": True}
    return client.post("/api/v1/deployments", json=body, headers=headers)


def review(
    client: TestClient, headers: H, deployment_id: int, verb: str, comment: str | None = None
) -> Any:
    path = f"/api/v1/deployments/{deployment_id}/{verb}"
    if comment is None:
        return client.post(path, headers=headers)
    return client.post(path, json={"comment": comment}, headers=headers)


def test_prod_waits_for_a_second_deployer(
    client: TestClient, shop: Repo, people: dict[str, H], admin_headers: H
) -> None:
    response = deploy(client, people["alice"])
    assert response.status_code == 201, response.text
    waiting = response.json()
    assert (waiting["status"], waiting["created_by"], waiting["reviewed_by"]) == (
        "awaiting_approval",
        "alice",
        None,
    )
    assert waiting["started_at"] is None and waiting["finished_at"] is None
    assert waiting["state"]["review"]["requested_by"] == "alice"
    assert waiting["events"][0]["status"] == "awaiting_approval"
    busy = deploy(client, people["bob"])
    assert busy.status_code == 409
    assert (
        "is awaiting_approval in prod; wait for it (codectl watch prod follows it), or abort it"
        in busy.json()["error"]["message"]
    )

    deployment_id = waiting["id"]
    own = review(client, people["alice"], deployment_id, "approve")
    assert own.status_code == 403
    assert "a second person must approve it" in own.json()["error"]["message"]
    for name in ("victor", "carol"):
        refused = review(client, people[name], deployment_id, "approve")
        assert refused.status_code == 403, name
        assert "needs role deployer" in refused.json()["error"]["message"]
    outsider = review(client, people["mallory"], deployment_id, "approve")
    assert outsider.status_code == 403
    assert "may not deploy to 'prod'" in outsider.json()["error"]["message"]

    approved = review(client, people["bob"], deployment_id, "approve", "looks good")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["reviewed_by"]) == ("pending", "bob")
    assert body["message"] == "approved by bob: looks good"
    last = body["events"][-1]
    assert (last["status"], last["reason"], last["by"], last["comment"]) == (
        "pending",
        "approved",
        "bob",
        "looks good",
    )
    assert last["at"].startswith("2026-11-02T12:00")
    assert body["state"]["review"]["decision"] == "approved"

    again = review(client, people["bob"], deployment_id, "approve")
    assert again.status_code == 409
    message = again.json()["error"]["message"]
    assert (
        message
        == f"deployment {deployment_id} is pending, not awaiting approval: nothing to approve"
    )
    listed = client.get("/api/v1/deployments?service=shop", headers=admin_headers).json()
    assert listed["items"][0]["reviewed_by"] == "bob"

    audit = client.get("/api/v1/audit?action=deployment.approve", headers=admin_headers).json()
    [event] = audit["items"]
    assert (event["principal"], event["detail"]["requested_by"]) == ("bob", "alice")
    assert event["detail"]["comment"] == "looks good"
    assert event["resource"] == f"service/shop/env/prod/deployment/{deployment_id}"


def test_a_rejected_deployment_ends_without_running(
    client: TestClient, shop: Repo, people: dict[str, H], admin_headers: H, database: Database
) -> None:
    deployment_id = deploy(client, people["alice"]).json()["id"]
    assert review(client, people["victor"], deployment_id, "reject").status_code == 403
    rejected = review(client, people["bob"], deployment_id, "reject", "not during the freeze")
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert (body["status"], body["reviewed_by"]) == ("rejected", "bob")
    assert body["message"] == "rejected by bob: not during the freeze"
    assert body["finished_at"] is not None and body["started_at"] is None
    assert body["progress"]["phase"] == "done"
    assert body["events"][-1]["comment"] == "not during the freeze"
    late = review(client, people["carol"], deployment_id, "approve")
    assert late.status_code == 403  # RBAC first: carol may not act on prod at all
    late = review(client, people["bob"], deployment_id, "approve")
    assert late.status_code == 409
    assert "is rejected, not awaiting approval" in late.json()["error"]["message"]
    paused = client.post(f"/api/v1/deployments/{deployment_id}/pause", headers=people["bob"])
    assert paused.status_code == 409 and "already rejected" in paused.json()["error"]["message"]

    status = client.get("/api/v1/deployments/status?service=shop", headers=admin_headers).json()
    assert {s["environment"]: s["active"] for s in status}["prod"] is None
    again = deploy(client, people["alice"])  # a rejected deployment no longer holds prod
    assert again.status_code == 201 and again.json()["status"] == "awaiting_approval"
    audit = client.get("/api/v1/audit?action=deployment.reject", headers=admin_headers).json()
    assert [e["detail"]["comment"] for e in audit["items"]] == ["not during the freeze"]
    query = "/api/v1/deployments?service=shop&status=rejected"
    assert [d["id"] for d in client.get(query, headers=admin_headers).json()["items"]] == [
        deployment_id
    ]
    with database.session() as session:
        row = session.get(DeploymentRow, deployment_id)
        assert row is not None and row.reviewed_by == "bob"


def test_the_requester_may_reject_or_abort_their_own(
    client: TestClient, shop: Repo, people: dict[str, H], admin_headers: H
) -> None:
    first = deploy(client, people["alice"]).json()["id"]
    withdrawn = review(client, people["alice"], first, "reject")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "rejected"
    assert withdrawn.json()["message"] == "rejected by alice"

    second = deploy(client, people["alice"]).json()["id"]
    held = client.post(f"/api/v1/deployments/{second}/pause", headers=people["alice"])
    assert held.status_code == 409
    assert "has not started: it is awaiting approval" in held.json()["error"]["message"]
    aborted = client.post(f"/api/v1/deployments/{second}/abort", headers=people["alice"])
    assert aborted.status_code == 200
    assert (aborted.json()["status"], aborted.json()["reviewed_by"]) == ("rejected", None)
    assert aborted.json()["message"] == "aborted by alice before approval"

    third = deploy(client, people["alice"]).json()["id"]
    body = {"service": "shop", "environment": "prod"}
    back = client.post("/api/v1/deployments/rollback", json=body, headers=people["bob"])
    assert back.status_code == 201 and back.json()["id"] == third
    assert back.json()["status"] == "rejected"  # rolling back what never ran: it is aborted
    actions = [
        e["action"] for e in client.get("/api/v1/audit", headers=admin_headers).json()["items"]
    ]
    assert actions.count("deployment.abort") == 2 and "deployment.reject" in actions


def test_promote_and_rollback_wait_for_approval_too(
    client: TestClient, shop: Repo, people: dict[str, H], admin_headers: H, database: Database
) -> None:
    staging = deploy(client, admin_headers, "staging").json()
    assert staging["status"] == "pending"  # staging asks for no approval
    finish(database, staging["id"])
    body = {"service": "shop", "from": "staging", "to": "prod"}
    promoted = client.post("/api/v1/deployments/promote", json=body, headers=people["alice"])
    assert promoted.status_code == 201, promoted.text
    assert (promoted.json()["status"], promoted.json()["trigger"]) == (
        "awaiting_approval",
        "promote",
    )
    status = client.get(
        "/api/v1/deployments/status?service=shop&environment=prod", headers=admin_headers
    ).json()
    assert status[0]["active"]["status"] == "awaiting_approval"
    assert status[0]["active"]["created_by"] == "alice"
    assert status[0]["active"]["progress"] is None  # nothing rolls out yet
    review(client, people["bob"], promoted.json()["id"], "approve")
    finish(database, promoted.json()["id"])

    repo = shop
    repo.commit("feat: second", SPEC)
    client.post(
        "/api/v1/releases", json={"service": "shop", "version": "1.1.0"}, headers=admin_headers
    )
    finish(database, deploy_version(client, admin_headers, "staging", "1.1.0")["id"])
    second = deploy_version(client, people["alice"], "prod", "1.1.0")
    review(client, people["bob"], second["id"], "approve")
    finish(database, second["id"])
    body = {"service": "shop", "environment": "prod"}
    back = client.post("/api/v1/deployments/rollback", json=body, headers=people["alice"])
    assert back.status_code == 201, back.text
    assert (back.json()["version"], back.json()["trigger"], back.json()["status"]) == (
        "1.0.0",
        "rollback",
        "awaiting_approval",
    )


def test_the_worker_does_not_start_a_deployment_awaiting_approval(
    client: TestClient,
    shop: Repo,
    people: dict[str, H],
    database: Database,
    data_dir: Path,
    clock: Clock,
) -> None:
    deployment_id = deploy(client, people["alice"]).json()["id"]
    worker = Worker(database, WorkerConfig(data_dir=data_dir), clock)
    worker.tick()
    worker.close()
    assert not (data_dir / "run").exists()  # no router, no instance
    with database.session() as session:
        row = session.get(DeploymentRow, deployment_id)
        assert row is not None and row.status == "awaiting_approval"


def test_dora_counts_neither_waiting_nor_rejected_deployments(
    client: TestClient,
    shop: Repo,
    people: dict[str, H],
    admin_headers: H,
    database: Database,
    clock: FrozenClock,
) -> None:
    ran = deploy(client, people["alice"]).json()["id"]
    review(client, people["bob"], ran, "approve")
    finish(database, ran)
    shop.commit("feat: second", SPEC)
    body = {"service": "shop", "version": "1.1.0"}
    client.post("/api/v1/releases", json=body, headers=admin_headers)
    rejected = deploy_version(client, people["alice"], "prod", "1.1.0")["id"]
    review(client, people["bob"], rejected, "reject")
    deploy_version(client, people["alice"], "prod", "1.1.0")  # awaits approval
    clock.now += timedelta(minutes=5)  # the window ends now, exclusive
    query = "/api/v1/metrics/dora?service=shop&environment=prod"
    [report] = client.get(query, headers=admin_headers).json()["services"]
    metrics = report["metrics"]
    assert metrics["deployment_frequency"]["sample_size"] == 1, metrics
    assert metrics["change_failure_rate"]["value"] == 0


def deploy_version(client: TestClient, headers: H, environment: str, version: str) -> Any:
    body = {"service": "shop", "environment": environment, "version": version, "run": True}
    response = client.post("/api/v1/deployments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def finish(database: Database, deployment_id: int) -> None:
    """What the controller writes at the end of a successful rollout."""
    with database.session() as session:
        row = session.get(DeploymentRow, deployment_id)
        assert row is not None
        row.status = "succeeded"
        row.started_at = row.finished_at = row.created_at
