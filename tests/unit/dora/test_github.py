"""GitHub deployment_status webhooks: signature and mapping of a real-shaped payload."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from code_engine.dora.events import DeploymentStatus, PayloadError
from code_engine.dora.github import parse_deployment_status, signature, verify_signature

FIXTURE = Path(__file__).parents[2] / "fixtures" / "dora" / "github_deployment_status.json"
SECRET = b"whsec-checkout-api-7f3a"


@pytest.fixture
def body() -> bytes:
    return FIXTURE.read_bytes()


@pytest.fixture
def payload(body: bytes) -> dict[str, Any]:
    return json.loads(body)  # type: ignore[no-any-return]


def test_githubs_documented_test_vector() -> None:
    # From GitHub's "Validating webhook deliveries" documentation.
    assert signature(b"It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_valid_signature_verifies(body: bytes) -> None:
    assert verify_signature(SECRET, body, signature(SECRET, body))


def test_tampered_body_fails(body: bytes) -> None:
    header = signature(SECRET, body)
    tampered = body.replace(b'"state": "success"', b'"state": "failure"')
    assert tampered != body
    assert not verify_signature(SECRET, tampered, header)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha1=0123", "sha256=", "sha256=00", "sha256=é" * 3],
)
def test_missing_or_malformed_headers_fail(body: bytes, header: str | None) -> None:
    assert not verify_signature(SECRET, body, header)


def test_wrong_or_empty_secret_fails(body: bytes) -> None:
    header = signature(SECRET, body)
    assert not verify_signature(b"another-secret", body, header)
    assert not verify_signature(b"", body, signature(b"", body))


def test_uppercase_hex_is_accepted(body: bytes) -> None:
    header = signature(SECRET, body)
    assert verify_signature(SECRET, body, "sha256=" + header.removeprefix("sha256=").upper())


def test_success_maps_to_a_succeeded_prod_deployment(payload: dict[str, Any]) -> None:
    event = parse_deployment_status(payload)
    assert event is not None
    assert event.external_id == "github:1873442210"
    assert event.service == "checkout-api"
    assert event.environment == "prod"
    assert event.status is DeploymentStatus.SUCCEEDED
    assert event.started_at == datetime(2024, 6, 11, 12, 44, 31, tzinfo=timezone.utc)
    assert event.finished_at == datetime(2024, 6, 11, 12, 52, 9, tzinfo=timezone.utc)
    assert event.commits == ("3f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e",)
    assert event.revision == event.commits[0]
    assert (event.trigger, event.source) == ("mara-ops", "github")


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("success", DeploymentStatus.SUCCEEDED),
        ("failure", DeploymentStatus.FAILED),
        ("error", DeploymentStatus.FAILED),
        ("pending", None),
        ("queued", None),
        ("in_progress", None),
        ("inactive", None),
    ],
)
def test_states(payload: dict[str, Any], state: str, status: DeploymentStatus | None) -> None:
    payload["deployment_status"]["state"] = state
    event = parse_deployment_status(payload)
    assert (event.status if event else None) is status


def test_custom_payload_names_the_service_of_a_monorepo(payload: dict[str, Any]) -> None:
    payload["deployment"]["payload"] = {"service": "payments"}
    event = parse_deployment_status(payload)
    assert event is not None and event.service == "payments"


def test_environment_falls_back_to_the_deployment(payload: dict[str, Any]) -> None:
    del payload["deployment_status"]["environment"]
    payload["deployment"]["environment"] = "staging"
    event = parse_deployment_status(payload)
    assert event is not None and event.environment == "staging"


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda p: p["deployment"].pop("sha"), "deployment.sha: missing"),
        (lambda p: p.pop("deployment"), "deployment: missing"),
        (lambda p: p["repository"].update(name=""), "repository.name: expected a non-empty string"),
        (
            lambda p: p["deployment_status"].update(created_at="2024-06-11T12:52:09"),
            "no UTC offset",
        ),
        (lambda p: p["deployment_status"].update(state=True), "deployment_status.state: missing"),
    ],
)
def test_invalid_payloads_name_the_field(
    payload: dict[str, Any], mutate: Any, problem: str
) -> None:
    broken = copy.deepcopy(payload)
    mutate(broken)
    with pytest.raises(PayloadError, match=problem):
        parse_deployment_status(broken)


def test_non_object_body() -> None:
    with pytest.raises(PayloadError, match="body: expected a JSON object"):
        parse_deployment_status([1, 2])
