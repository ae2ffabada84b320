"""Argo CD notifications rendered from the documented template."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from code_engine.dora.argocd import parse_notification
from code_engine.dora.dedupe import dedupe
from code_engine.dora.events import DeploymentStatus, PayloadError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dora"
UTC = timezone.utc


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def test_deployed_notification_is_a_succeeded_deployment() -> None:
    event = parse_notification(load("argocd_deployed.json"))
    assert event is not None
    assert event.external_id == "argocd:prod:checkout-api@2024-06-11T12:47:02Z"
    assert event.service == "checkout-api"  # "<no value>" falls back to the app name
    assert event.environment == "prod"
    assert event.status is DeploymentStatus.SUCCEEDED
    assert event.started_at == datetime(2024, 6, 11, 12, 47, 2, tzinfo=UTC)
    assert event.finished_at == datetime(2024, 6, 11, 12, 47, 31, tzinfo=UTC)
    assert event.commits == ("3f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e",)
    assert (event.trigger, event.source) == ("automated", "argocd")


def test_failed_sync_is_a_failed_deployment() -> None:
    event = parse_notification(load("argocd_sync_failed.json"))
    assert event is not None
    assert event.status is DeploymentStatus.FAILED
    assert event.trigger == "mara-ops"


def test_degraded_after_sync_replaces_the_success() -> None:
    deployed = load("argocd_deployed.json")
    degraded = {**deployed, "healthStatus": "Degraded"}
    success, failure = parse_notification(deployed), parse_notification(degraded)
    assert success is not None and failure is not None
    assert success.external_id == failure.external_id
    assert dedupe([failure, success]) == [failure]


@pytest.mark.parametrize(
    ("phase", "health"),
    [("Running", "Progressing"), ("Succeeded", "Progressing"), ("Succeeded", "Missing"), ("", "")],
)
def test_unfinished_operations_are_skipped(phase: str, health: str) -> None:
    body = {**load("argocd_deployed.json"), "phase": phase, "healthStatus": health}
    assert parse_notification(body) is None


def test_defaults_for_absent_template_fields() -> None:
    body = {
        **load("argocd_deployed.json"),
        "environment": "<no value>",
        "startedAt": "",
        "revision": "1.4.2",  # a Helm chart version is not a commit
        "service": "checkout",
    }
    event = parse_notification(body, default_environment="staging")
    assert event is not None
    assert event.environment == "staging"
    assert event.service == "checkout"
    assert event.started_at == event.finished_at
    assert event.commits == ()
    assert event.revision == "1.4.2"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"app": ""}, "app: expected a non-empty string"),
        ({"finishedAt": "<no value>"}, "finishedAt: '<no value>' is not an RFC 3339 timestamp"),
        ({"finishedAt": None}, "finishedAt: missing"),
    ],
)
def test_invalid_payloads_name_the_field(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        parse_notification({**load("argocd_deployed.json"), **changes})
