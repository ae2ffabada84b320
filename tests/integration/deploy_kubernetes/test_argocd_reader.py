"""The Argo CD reader against a real HTTP server serving recorded Argo CD v2.x responses."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.support.argocd import FIXTURES, RecordedApp, RecordedArgoCD, recorded_argocd
from tests.support.network import free_port

from code_engine.deploy.kubernetes.argocd import (
    ApplicationNotFound,
    ArgoCDError,
    ArgoTokenRejected,
    HttpArgoCD,
    RolloutRef,
    rollout_status,
)

SHA = "5" * 40
OLD = "4" * 40
REF = RolloutRef("shop", "shop")


@pytest.fixture(scope="module")
def argo() -> Iterator[RecordedArgoCD]:
    with recorded_argocd() as world:
        yield world


@pytest.fixture
def client(argo: RecordedArgoCD) -> Iterator[HttpArgoCD]:
    argo.apps = {
        "shop-staging": RecordedApp(
            "healthy", SHA, OLD, "shop", "shop", "envs/staging", "ghcr.io/acme/shop:1.2.0"
        )
    }
    reader = HttpArgoCD(argo.url, argo.token)
    yield reader


def test_synced_healthy(argo: RecordedArgoCD, client: HttpArgoCD) -> None:
    app = client.application("shop-staging")
    assert (app.name, app.sync, app.health, app.revision) == (
        "shop-staging",
        "Synced",
        "Healthy",
        SHA,
    )
    assert app.operation == "Succeeded"
    assert app.operation_revision == SHA
    rollout = client.rollout("shop-staging", REF)
    assert rollout is not None
    assert (rollout.phase, rollout.step, rollout.steps, rollout.aborted) == ("Healthy", 5, 5, False)
    assert rollout.images == ("ghcr.io/acme/shop:1.2.0",)
    assert rollout.failed_analysis is None


def test_progressing_at_a_step(argo: RecordedArgoCD, client: HttpArgoCD) -> None:
    argo.apps["shop-staging"].state = "progressing"
    app = client.application("shop-staging")
    assert (app.sync, app.health) == ("Synced", "Progressing")
    rollout = client.rollout("shop-staging", REF)
    assert rollout is not None
    assert (rollout.phase, rollout.step, rollout.message) == ("Paused", 1, "CanaryPauseStep")


def test_degraded_with_a_failed_analysis(argo: RecordedArgoCD, client: HttpArgoCD) -> None:
    argo.apps["shop-staging"].state = "degraded"
    assert client.application("shop-staging").health == "Degraded"
    rollout = client.rollout("shop-staging", REF)
    assert rollout is not None
    assert rollout.phase == "Degraded"
    assert rollout.aborted
    failed = rollout.failed_analysis
    assert failed is not None
    assert failed.status == "Failed"
    assert "error-rate" in failed.message


def test_out_of_sync(argo: RecordedArgoCD, client: HttpArgoCD) -> None:
    argo.apps["shop-staging"].state = "outofsync"
    app = client.application("shop-staging")
    assert (app.sync, app.revision, app.operation) == ("OutOfSync", OLD, "Running")


def test_abort_runs_the_resource_action(argo: RecordedArgoCD, client: HttpArgoCD) -> None:
    argo.actions.clear()
    client.abort("shop-staging", REF)
    assert argo.actions == [("shop-staging", "shop", "abort")]


def test_no_such_application(client: HttpArgoCD) -> None:
    with pytest.raises(ApplicationNotFound, match="'shop-prod'.*404.*not found"):
        client.application("shop-prod")
    with pytest.raises(ApplicationNotFound, match="shop-prod"):
        client.rollout("shop-prod", REF)


def test_rejected_token(argo: RecordedArgoCD) -> None:
    reader = HttpArgoCD(argo.url, "expired-token")
    with pytest.raises(ArgoTokenRejected, match="rejected the token.*401.*CODE_ARGOCD_TOKEN"):
        reader.application("shop-staging")


def test_unreachable() -> None:
    reader = HttpArgoCD(f"http://127.0.0.1:{free_port()}", "token", timeout=2)
    with pytest.raises(ArgoCDError, match="cannot be reached"):
        reader.application("shop-staging")


def test_a_rollout_status_of_an_older_generation_is_progressing() -> None:
    live = json.loads(json.loads((FIXTURES / "rollout-healthy.json").read_text())["manifest"])
    live["metadata"]["generation"] = 24  # the new spec, not yet seen by the controller
    assert rollout_status(live).phase == "Progressing"
    live["status"]["observedGeneration"] = "24"
    assert rollout_status(live).phase == "Healthy"
