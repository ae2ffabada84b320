"""The delivery API over the in-process client: releases, deployments, protection, commands."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from code_engine.store.engine import Database
from code_engine.store.tables import DeploymentCommandRow, DeploymentRow

from .conftest import Repo

H = dict[str, str]


def release(client: TestClient, headers: H, version: str, sha: str = "") -> Any:
    body = {"service": "shop", "version": version, "sha": sha}
    return client.post("/api/v1/releases", json=body, headers=headers)


def deploy(client: TestClient, headers: H, environment: str, version: str | None = None) -> Any:
    body = {"service": "shop", "environment": environment, "version": version, "run": True}
    return client.post("/api/v1/deployments", json=body, headers=headers)


def finish(database: Database, deployment_id: int, status: str = "succeeded") -> None:
    """What the controller writes at the end of a rollout."""
    with database.session() as session:
        row = session.get(DeploymentRow, deployment_id)
        assert row is not None
        row.status = status
        row.finished_at = row.created_at


def test_a_release_is_checked_against_its_commit(
    client: TestClient, admin_headers: H, shop: Repo
) -> None:
    head = shop.git("rev-parse", "HEAD")
    created = release(client, admin_headers, "1.0.0")
    assert created.status_code == 201, created.text
    assert created.json()["sha"] == head
    assert created.json()["artifact"].endswith("/releases/shop/1.0.0")
    broken = shop.commit("fix: typo", "service: shop\nrepo: .\nenvironments: []\n")
    bad = release(client, admin_headers, "1.0.1", broken)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "environments"
    unknown = release(client, admin_headers, "1.0.2", "0" * 40)
    assert unknown.status_code == 422
    assert "is not a commit" in unknown.json()["error"]["message"]


def test_deploy_plans_a_rollout_the_controller_runs(
    client: TestClient, admin_headers: H, shop: Repo
) -> None:
    release(client, admin_headers, "1.0.0")
    response = deploy(client, admin_headers, "staging")
    assert response.status_code == 201, response.text
    first = response.json()
    assert (first["status"], first["strategy"], first["source"]) == (
        "pending",
        "all_at_once",
        "code",
    )
    assert first["progress"]["phase"] == "starting"
    assert first["commits"] == [shop.git("rev-parse", "HEAD")]
    busy = deploy(client, admin_headers, "staging", "1.0.0")
    assert busy.status_code == 409
    assert "is pending in staging" in busy.json()["error"]["message"]
    audit = client.get("/api/v1/audit", headers=admin_headers).json()["items"]
    assert "deployment.start" in [event["action"] for event in audit]


def test_the_second_release_rolls_out_as_a_canary_over_the_first(
    client: TestClient, admin_headers: H, shop: Repo, database: Database
) -> None:
    release(client, admin_headers, "1.0.0")
    finish(database, deploy(client, admin_headers, "staging").json()["id"])
    same = deploy(client, admin_headers, "staging", "1.0.0")
    assert same.status_code == 409 and "already serves" in same.json()["error"]["message"]
    shop.commit("feat: second")
    release(client, admin_headers, "1.1.0")
    second = deploy(client, admin_headers, "staging").json()
    assert second["version"] == "1.1.0" and second["strategy"] == "canary"
    assert (second["progress"]["stable"], second["progress"]["steps"]) == ("1.0.0", 2)
    assert second["commits"] == [shop.git("rev-parse", "HEAD")]  # only what 1.0.0 lacked
    assert sorted(second["state"]["launch"]) == ["1.0.0", "1.1.0"]


def test_prod_takes_only_what_passed_staging(
    client: TestClient, admin_headers: H, shop: Repo, database: Database
) -> None:
    release(client, admin_headers, "1.0.0")
    refused = deploy(client, admin_headers, "prod", "1.0.0")
    assert refused.status_code == 409
    assert "only takes a release that succeeded in 'staging'" in refused.json()["error"]["message"]
    finish(database, deploy(client, admin_headers, "staging").json()["id"])
    promoted = client.post(
        "/api/v1/deployments/promote",
        json={"service": "shop", "from": "staging", "to": "prod"},
        headers=admin_headers,
    )
    assert promoted.status_code == 201, promoted.text
    assert (promoted.json()["version"], promoted.json()["trigger"]) == ("1.0.0", "promote")


def test_deployers_of_code_yaml_and_rbac_per_environment(
    client: TestClient, admin_headers: H, shop: Repo, database: Database, make_token: Any
) -> None:
    release(client, admin_headers, "1.0.0")
    finish(database, deploy(client, admin_headers, "staging").json()["id"])
    staging_only = {"Authorization": f"Bearer {make_token('deployer:staging', name='ci')}"}
    assert deploy(client, staging_only, "prod", "1.0.0").status_code == 403
    outsider = {"Authorization": f"Bearer {make_token('deployer', name='mallory')}"}
    response = deploy(client, outsider, "prod", "1.0.0")
    assert response.status_code == 403
    assert "code.yaml allows admin, ci" in response.json()["error"]["message"]
    ci = {"Authorization": f"Bearer {make_token('deployer', name='ci')}"}
    assert deploy(client, ci, "prod", "1.0.0").status_code == 201


def test_commands_are_queued_for_the_controller(
    client: TestClient, admin_headers: H, shop: Repo, database: Database, make_token: Any
) -> None:
    release(client, admin_headers, "1.0.0")
    deployment_id = deploy(client, admin_headers, "staging").json()["id"]
    for verb in ("pause", "resume", "promote", "abort"):
        path = f"/api/v1/deployments/{deployment_id}/{verb}"
        assert client.post(path, headers=admin_headers).status_code == 200
    viewer = {"Authorization": f"Bearer {make_token('viewer')}"}
    path = f"/api/v1/deployments/{deployment_id}/abort"
    assert client.post(path, headers=viewer).status_code == 403
    with database.session() as session:
        query = select(DeploymentCommandRow.command).order_by(DeploymentCommandRow.id)
        queued = session.scalars(query).all()
    assert list(queued) == ["pause", "resume", "promote_full", "abort"]
    status = client.get("/api/v1/deployments/status?service=shop", headers=admin_headers).json()
    assert [s["environment"] for s in status] == ["staging", "prod", "dev"]
    assert status[0]["active"]["id"] == deployment_id
    finish(database, deployment_id)
    late = client.post(path, headers=admin_headers)
    assert late.status_code == 409 and "already succeeded" in late.json()["error"]["message"]


def test_rollback_aborts_a_rollout_or_goes_back_a_release(
    client: TestClient, admin_headers: H, shop: Repo, database: Database
) -> None:
    body = {"service": "shop", "environment": "staging"}
    nothing = client.post("/api/v1/deployments/rollback", json=body, headers=admin_headers)
    assert nothing.status_code == 409
    release(client, admin_headers, "1.0.0")
    finish(database, deploy(client, admin_headers, "staging").json()["id"])
    shop.commit("feat: second")
    release(client, admin_headers, "1.1.0")
    second = deploy(client, admin_headers, "staging").json()["id"]
    aborted = client.post("/api/v1/deployments/rollback", json=body, headers=admin_headers)
    assert aborted.json()["id"] == second  # in progress: rolling back is aborting it
    finish(database, second)
    back = client.post("/api/v1/deployments/rollback", json=body, headers=admin_headers).json()
    assert (back["version"], back["trigger"], back["strategy"]) == (
        "1.0.0",
        "rollback",
        "all_at_once",
    )
    assert back["commits"] == []  # going back delivers no new commit
