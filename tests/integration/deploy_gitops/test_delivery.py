"""A release delivered to Kubernetes the GitOps way, end to end: the API, the worker's GitOps
controller, real kustomize and schema validation, a real bare GitOps remote (with a second
committer racing), and Argo CD answering with recorded responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient
from tests.support.argocd import RecordedArgoCD

from code_engine.deploy.gitrepo import open_repository
from code_engine.deploy.kubernetes import delivery
from code_engine.deploy.kubernetes.delivery import GitDelivery
from code_engine.deploy.kubernetes.render import Rendered
from code_engine.deploy.kubernetes.state import GitOpsState
from code_engine.deploy.kubernetes.validate import validate_rendered
from code_engine.store.engine import Database
from code_engine.store.tables import DeploymentRow
from code_engine.worker import Worker

from .conftest import H, Service, deploy, deployment, release

STAGING = "apps/shop/staging/manifests.yaml"
PROD = "apps/shop/prod/manifests.yaml"


def settle(worker: Worker, client: TestClient, headers: H, deployment_id: int) -> dict[str, Any]:
    """Tick the worker until the deployment stops changing; the deployment as the API shows it."""
    seen: dict[str, Any] = {}
    for _ in range(10):
        worker.tick()
        now = deployment(client, headers, deployment_id)
        if (now["status"], now["message"]) == (seen.get("status"), seen.get("message")):
            return now
        seen = now
    return seen


def synced(argo: RecordedArgoCD, app: str, state: str, revision: str) -> None:
    argo.apps[app].state = state
    argo.apps[app].revision = revision


def image_of(text: str) -> str:
    for doc in yaml.safe_load_all(text):
        if doc and doc.get("kind") == "Rollout":
            return str(doc["spec"]["template"]["spec"]["containers"][0]["image"])
    raise AssertionError("no Rollout in the manifests")


def deliver_staging(
    client: TestClient,
    headers: H,
    worker: Worker,
    argo: RecordedArgoCD,
    shop: Service,
    version: str,
) -> tuple[dict[str, Any], str]:
    started = deploy(client, headers, "staging", version)
    assert started.status_code == 201, started.text
    settle(worker, client, headers, started.json()["id"])
    commit = shop.remote.head()
    synced(argo, "shop-staging", "healthy", commit)
    return settle(worker, client, headers, started.json()["id"]), commit


def test_v1_to_staging_then_prod_with_approval(
    client: TestClient,
    admin_headers: H,
    make_token: Any,
    worker: Worker,
    argo: RecordedArgoCD,
    shop: Service,
) -> None:
    before = shop.remote.head()
    started = deploy(client, admin_headers, "staging", "1.0.0")
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "pending"
    first = started.json()["id"]
    assert shop.remote.head() == before  # nothing is pushed before the controller runs

    moved = settle(worker, client, admin_headers, first)
    commit = shop.remote.head()
    assert commit != before
    assert moved["status"] == "progressing"
    assert "waiting for Argo CD to sync" in moved["message"]
    # one commit, written as the principal who deployed, with the image and the trailers
    message = shop.remote.message()
    assert message.startswith("deploy(staging): shop 1.0.0")
    assert f"Code-Deployment: {first}" in message
    assert "Code-Release: 1.0.0" in message
    assert f"Code-Commit: {git_head(shop.path)}" in message
    assert shop.remote.author().startswith("tester <")
    text = shop.remote.show(STAGING)
    assert image_of(text) == "ghcr.io/acme/shop:1.0.0"
    objects = tuple(doc for doc in yaml.safe_load_all(text) if doc)
    rendered = Rendered("staging", "1.0.0", "", objects, tuple("gitops" for _ in objects), text)
    validate_rendered(rendered, "1.30")  # what was committed is valid

    synced(argo, "shop-staging", "progressing", commit)
    paused = settle(worker, client, admin_headers, first)
    assert paused["status"] == "paused"
    assert "paused at step 2/5" in paused["message"]
    assert paused["progress"]["application"] == "shop-staging"

    synced(argo, "shop-staging", "healthy", commit)
    done = settle(worker, client, admin_headers, first)
    assert done["status"] == "succeeded"
    assert done["finished_at"] is not None
    assert git_head(shop.path) in done["commits"]
    # Argo CD's notification of that sync is not a second record of the deployment
    note = {
        "app": "shop-staging",
        "environment": "staging",
        "service": "shop",
        "revision": commit,
        "healthStatus": "Healthy",
        "phase": "Succeeded",
        "startedAt": "2026-11-02T12:00:00Z",
        "finishedAt": "2026-11-02T12:00:30Z",
    }
    hook = client.post("/api/v1/webhooks/argocd", json=note, headers=admin_headers)
    assert hook.status_code == 200, hook.text
    assert any("recorded by CODE" in reason for reason in hook.json()["ignored"]), hook.json()

    # prod: promoted, held for a second person, then pushed to prod's directory
    body = {"service": "shop", "from": "staging", "to": "prod"}
    held = client.post("/api/v1/deployments/promote", json=body, headers=admin_headers)
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "awaiting_approval"
    worker.tick()
    assert shop.remote.head() == commit  # not approved: nothing pushed
    bob = {"Authorization": f"Bearer {make_token('admin', name='bob')}"}
    approved = client.post(f"/api/v1/deployments/{held.json()['id']}/approve", headers=bob)
    assert approved.status_code == 200, approved.text
    settle(worker, client, admin_headers, held.json()["id"])
    assert image_of(shop.remote.show(PROD)) == "ghcr.io/acme/shop:1.0.0"
    assert shop.remote.message().startswith("deploy(prod): shop 1.0.0")
    synced(argo, "shop-prod", "healthy", shop.remote.head())
    assert settle(worker, client, admin_headers, held.json()["id"])["status"] == "succeeded"


def git_head_of(remote: Any, rev: str) -> str:
    from tests.support.git import git

    return git(remote.path, "rev-parse", rev)


def git_head(path: Path) -> str:
    from tests.support.git import git

    return git(path, "rev-parse", "HEAD")


def test_v2_degraded_is_reverted_and_rolled_back(
    client: TestClient,
    admin_headers: H,
    worker: Worker,
    argo: RecordedArgoCD,
    shop: Service,
    database: Database,
) -> None:
    v1, _ = deliver_staging(client, admin_headers, worker, argo, shop, "1.0.0")
    assert v1["status"] == "succeeded"
    v1_text = shop.remote.show(STAGING)
    shop.commit("feat: v2")
    release(client, admin_headers, "2.0.0")
    started = deploy(client, admin_headers, "staging", "2.0.0")
    assert started.status_code == 201, started.text
    settle(worker, client, admin_headers, started.json()["id"])
    v2_commit = shop.remote.head()
    assert image_of(shop.remote.show(STAGING)) == "ghcr.io/acme/shop:2.0.0"

    synced(argo, "shop-staging", "degraded", v2_commit)
    done = settle(worker, client, admin_headers, started.json()["id"])
    assert done["status"] == "rolled_back"
    assert "error-rate" in done["message"]
    # the Rollout was aborted through Argo CD, and Git says v1 again: a revert, never a force
    assert ("shop-staging", "shop", "abort") in argo.actions
    assert shop.remote.message().startswith("revert(staging): shop 2.0.0")
    assert shop.remote.show(STAGING) == v1_text
    assert done["progress"]["revert_commit"] == shop.remote.head()
    # CODE agrees: staging still serves 1.0.0, and the failure is DORA's record
    status = client.get(
        "/api/v1/deployments/status", params={"service": "shop"}, headers=admin_headers
    )
    staging = next(e for e in status.json() if e["environment"] == "staging")
    assert staging["version"] == "1.0.0", staging
    with database.session() as session:
        row = session.get(DeploymentRow, started.json()["id"])
        assert row is not None
        assert (row.status, row.finished_at is not None) == ("rolled_back", True)


def test_rollback_reverts_the_commit_that_serves(
    client: TestClient, admin_headers: H, worker: Worker, argo: RecordedArgoCD, shop: Service
) -> None:
    deliver_staging(client, admin_headers, worker, argo, shop, "1.0.0")
    v1_text = shop.remote.show(STAGING)
    shop.commit("feat: v2")
    release(client, admin_headers, "2.0.0")
    v2, v2_commit = deliver_staging(client, admin_headers, worker, argo, shop, "2.0.0")
    assert v2["status"] == "succeeded"

    body = {"service": "shop", "environment": "staging"}
    back = client.post("/api/v1/deployments/rollback", json=body, headers=admin_headers)
    assert back.status_code == 201, back.text
    assert back.json()["version"] == "1.0.0"
    settle(worker, client, admin_headers, back.json()["id"])
    assert shop.remote.message().startswith("revert(staging)")
    assert shop.remote.show(STAGING) == v1_text
    synced(argo, "shop-staging", "healthy", shop.remote.head())
    done = settle(worker, client, admin_headers, back.json()["id"])
    assert done["status"] == "succeeded"
    assert done["progress"]["revert_of"] == v2_commit

    # 2.0.0 again, rolled back by a person while its Rollout is paused: abort + revert
    argo.actions.clear()
    again = deploy(client, admin_headers, "staging", "2.0.0")
    assert again.status_code == 201, again.text
    settle(worker, client, admin_headers, again.json()["id"])
    synced(argo, "shop-staging", "progressing", shop.remote.head())
    assert settle(worker, client, admin_headers, again.json()["id"])["status"] == "paused"
    paused = client.post(f"/api/v1/deployments/{again.json()['id']}/promote", headers=admin_headers)
    assert paused.status_code == 409, paused.text
    assert "Argo Rollouts steps it" in paused.json()["error"]["message"]
    stop = client.post("/api/v1/deployments/rollback", json=body, headers=admin_headers)
    assert stop.status_code == 201, stop.text
    assert stop.json()["id"] == again.json()["id"]
    stopped = settle(worker, client, admin_headers, again.json()["id"])
    assert (stopped["status"], stopped["progress"]["reason"]) == ("rolled_back", "aborted")
    assert argo.actions == [("shop-staging", "shop", "abort")]
    assert shop.remote.message().startswith("revert(staging): shop 2.0.0")
    assert shop.remote.show(STAGING) == v1_text


def test_two_deploys_to_one_environment_and_a_racing_committer(
    client: TestClient,
    admin_headers: H,
    worker: Worker,
    argo: RecordedArgoCD,
    shop: Service,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop.commit("feat: v2")
    release(client, admin_headers, "2.0.0")
    first = deploy(client, admin_headers, "staging", "1.0.0")
    assert first.status_code == 201, first.text
    second = deploy(client, admin_headers, "staging", "2.0.0")
    assert second.status_code == 409, second.text
    assert f"deployment {first.json()['id']}" in second.json()["error"]["message"]

    # a second committer pushes between CODE's fetch and its push, once
    races: list[str] = []

    def racing_validate(rendered: Rendered, version: str) -> None:
        validate_rendered(rendered, version)
        if not races:
            races.append(shop.remote.race(tmp_path / "other", "another team's change"))

    monkeypatch.setattr(delivery, "validate_rendered", racing_validate)
    settle(worker, client, admin_headers, first.json()["id"])
    raced = races[0]
    # the push was retried on the racer's head: both commits are on main
    assert shop.remote.message().startswith("deploy(staging): shop 1.0.0")
    assert shop.remote.message("main~1").startswith("docs: another team's change")
    assert shop.remote.show("OTHER.md") == "another team's change"
    assert git_head_of(shop.remote, "main~1") == raced

    # another commit lands on top of ours; Argo CD syncs that head, which includes ours
    later = shop.remote.race(tmp_path / "other", "a later change")
    synced(argo, "shop-staging", "healthy", later)
    assert settle(worker, client, admin_headers, first.json()["id"])["status"] == "succeeded"


def test_a_controller_that_died_after_its_push_resumes_without_pushing_twice(
    client: TestClient,
    admin_headers: H,
    worker: Worker,
    argo: RecordedArgoCD,
    shop: Service,
    database: Database,
    data_dir: Path,
) -> None:
    started = deploy(client, admin_headers, "staging", "1.0.0")
    assert started.status_code == 201, started.text
    state = GitOpsState.from_dict(
        deployment(client, admin_headers, started.json()["id"])["state"]["gitops"]
    )
    # what a worker killed between its push and its record left: the commit, no record
    pushed = GitDelivery(data_dir, lambda repo: open_repository(repo, data_dir)).publish(
        state, "tester"
    )
    commits = shop.remote.count()
    assert pushed.commit == shop.remote.head()

    moved = settle(worker, client, admin_headers, started.json()["id"])
    assert shop.remote.count() == commits  # the same manifests: nothing pushed again
    assert moved["progress"]["commit"] == pushed.commit
    synced(argo, "shop-staging", "healthy", pushed.commit)
    worker.close()
    restarted = Worker(database, worker.config, clock=worker.clock)  # a new process
    try:
        assert (
            settle(restarted, client, admin_headers, started.json()["id"])["status"] == "succeeded"
        )
    finally:
        restarted.close()
