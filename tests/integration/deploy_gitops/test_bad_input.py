"""Each bad input of a Kubernetes deployment gets a clear error naming the thing, and nothing
half-done: refused before anything is recorded when it can be checked first, otherwise the
deployment fails with why and the GitOps remote is left as it was."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.support.argocd import RecordedArgoCD

from code_engine.api.app import runtime_of
from code_engine.deploy.kubernetes import delivery
from code_engine.deploy.kubernetes.render import Rendered
from code_engine.deploy.kubernetes.validate import validate_rendered
from code_engine.worker import Worker

from .conftest import H, Service, deploy, deployment, release


def refused(response: Any, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    details = [f"{d['field']}: {d['message']}" for d in error.get("details") or ()]
    message = "\n".join([str(error["message"]), *details])
    for word in words:
        assert word in message, message
    return message


def nothing_recorded(client: TestClient, headers: H) -> None:
    response = client.get("/api/v1/deployments", params={"service": "shop"}, headers=headers)
    assert response.json()["items"] == []


def new_release(client: TestClient, headers: H, shop: Service, name: str, edit: Any) -> None:
    shop.commit(f"feat: {name}", edit)
    release(client, headers, "1.1.0")


def test_missing_kustomize(
    client: TestClient,
    admin_headers: H,
    shop: Service,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    before = shop.remote.head()
    settings = runtime_of(client.app).settings  # type: ignore[arg-type]
    monkeypatch.setattr(settings, "kubectl", str(tmp_path / "no-kubectl"))  # CODE_KUBECTL
    refused(deploy(client, admin_headers, "staging", "1.0.0"), 422, "no executable kubectl")
    nothing_recorded(client, admin_headers)
    assert shop.remote.head() == before


def test_missing_overlay(client: TestClient, admin_headers: H, shop: Service) -> None:
    edit = shop.edit("code.yaml", "overlay: staging", "overlay: qa")
    new_release(client, admin_headers, shop, "a missing overlay", edit)
    refused(deploy(client, admin_headers, "staging", "1.1.0"), 404, "deploy/k8s/overlays/qa")
    nothing_recorded(client, admin_headers)


def test_invalid_manifest_is_refused_with_its_path(
    client: TestClient, admin_headers: H, shop: Service
) -> None:
    before = shop.remote.head()
    edit = shop.edit(
        "deploy/k8s/base/deployment.yaml",
        "          ports:",
        "          imagePullPolcy: Always\n          ports:",
    )
    new_release(client, admin_headers, shop, "a typo", edit)
    message = refused(
        deploy(client, admin_headers, "staging", "1.1.0"),
        422,
        "deploy/k8s/base/deployment.yaml",
        "shop",
        "imagePullPolcy",
    )
    assert "Rollout/shop" in message or "Deployment/shop" in message
    nothing_recorded(client, admin_headers)
    assert shop.remote.head() == before


def test_unreachable_remote(
    client: TestClient, admin_headers: H, shop: Service, tmp_path: Path
) -> None:
    gone = tmp_path / "gone.git"
    edit = shop.edit("code.yaml", str(shop.remote.path), str(gone))
    new_release(client, admin_headers, shop, "a remote that is gone", edit)
    refused(deploy(client, admin_headers, "staging", "1.1.0"), 422, str(gone), "cannot be reached")
    nothing_recorded(client, admin_headers)


def test_rejected_token(
    client: TestClient, admin_headers: H, shop: Service, argo: RecordedArgoCD
) -> None:
    argo.token = "rotated-token"  # pragma: allowlist secret
    try:
        refused(deploy(client, admin_headers, "staging", "1.0.0"), 422, "rejected the token", "401")
    finally:
        argo.token = "recorded-argocd-token"  # pragma: allowlist secret
    nothing_recorded(client, admin_headers)


def test_no_such_application(
    client: TestClient, admin_headers: H, shop: Service, argo: RecordedArgoCD
) -> None:
    del argo.apps["shop-staging"]
    refused(deploy(client, admin_headers, "staging", "1.0.0"), 404, "shop-staging", "not found")
    nothing_recorded(client, admin_headers)


def hook(remote: Path, script: str) -> None:
    path = remote / "hooks" / "pre-receive"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_read_only_remote_fails_the_deployment_and_pushes_nothing(
    client: TestClient, admin_headers: H, worker: Worker, shop: Service
) -> None:
    before = shop.remote.head()
    hook(shop.remote.path, 'echo "this repository is read-only" >&2\nexit 1\n')
    started = deploy(client, admin_headers, "staging", "1.0.0")
    assert started.status_code == 201, started.text
    for _ in range(3):
        worker.tick()
    done = deployment(client, admin_headers, started.json()["id"])
    assert done["status"] == "failed", done
    assert "cannot push" in done["message"]
    assert "read-only" in done["message"]
    assert shop.remote.head() == before
    assert shop.remote.count("--all") == 1


def test_push_race_lost_three_times(
    client: TestClient,
    admin_headers: H,
    worker: Worker,
    shop: Service,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    racer = tmp_path / "racer"

    def racing_validate(rendered: Rendered, version: str) -> None:
        validate_rendered(rendered, version)
        shop.remote.race(racer, f"change {shop.remote.count()}")

    monkeypatch.setattr(delivery, "validate_rendered", racing_validate)
    started = deploy(client, admin_headers, "staging", "1.0.0")
    assert started.status_code == 201, started.text
    for _ in range(3):
        worker.tick()
    done = deployment(client, admin_headers, started.json()["id"])
    assert done["status"] == "failed", done
    assert "landed first 3 times" in done["message"]
    assert shop.remote.message().startswith("docs: change")  # only the racer's commits


def test_protected_branch_gets_a_branch_to_merge(
    client: TestClient, admin_headers: H, worker: Worker, shop: Service
) -> None:
    before = shop.remote.head()
    hook(
        shop.remote.path,
        'while read old new ref; do\n  [ "$ref" = refs/heads/main ] && '
        '{ echo "main is protected" >&2; exit 1; }\ndone\nexit 0\n',
    )
    started = deploy(client, admin_headers, "staging", "1.0.0")
    assert started.status_code == 201, started.text
    for _ in range(3):
        worker.tick()
    done = deployment(client, admin_headers, started.json()["id"])
    branch = f"code/deploy-{started.json()['id']}"
    assert done["status"] == "paused", done
    assert branch in done["message"]
    assert shop.remote.head() == before
    assert shop.remote.message(branch).startswith("deploy(staging): shop 1.0.0")
