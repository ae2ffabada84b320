"""The generic JSON ingestion shape."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from code_engine.dora.events import (
    CommitEvent,
    DeploymentEvent,
    DeploymentStatus,
    IncidentEvent,
    PayloadError,
)
from code_engine.dora.generic import EventBatch, parse_events

UTC = timezone.utc
SHA = "3F1C2A9E8B7D6C5F4E3A2B1C0D9E8F7A6B5C4D3E"

EXAMPLE: dict[str, Any] = {
    "events": [
        {
            "type": "commit",
            "id": SHA,
            "service": "checkout-api",
            "authored_at": "2024-06-10T09:12:00-05:00",
            "committed_at": "2024-06-10T16:20:00+02:00",
            "message": "feat: one-click checkout",
        },
        {
            "type": "deployment",
            "id": "jenkins-checkout-1482",
            "service": "checkout-api",
            "environment": "production",
            "status": "succeeded",
            "started_at": "2024-06-11T12:40:00Z",
            "finished_at": "2024-06-11T12:52:09Z",
            "commits": [SHA],
            "trigger": "jenkins",
            "source": "jenkins",
        },
        {
            "type": "incident",
            "id": "PD-Q2V8K1",
            "service": "checkout-api",
            "opened_at": "2024-06-11T13:04:39Z",
            "resolved_at": "2024-06-11T15:41:09+02:00",
            "severity": "critical",
            "deployment_id": "jenkins-checkout-1482",
            "title": "Checkout errors",
        },
    ]
}


def test_example_maps_to_events() -> None:
    commit, deployment, incident = parse_events(EXAMPLE)
    assert commit == CommitEvent(
        sha=SHA.lower(),
        service="checkout-api",
        authored_at=datetime(2024, 6, 10, 14, 12, tzinfo=UTC),
        committed_at=datetime(2024, 6, 10, 14, 20, tzinfo=UTC),
        message="feat: one-click checkout",
    )
    assert isinstance(deployment, DeploymentEvent)
    assert deployment.environment == "prod"
    assert deployment.status is DeploymentStatus.SUCCEEDED
    assert deployment.commits == (SHA.lower(),)
    assert isinstance(incident, IncidentEvent)
    assert incident.environment == "prod"
    assert incident.resolved_at == datetime(2024, 6, 11, 13, 41, 9, tzinfo=UTC)
    assert (incident.deployment_id, incident.source) == ("jenkins-checkout-1482", "generic")


def test_defaults() -> None:
    [deployment, commit] = parse_events(
        {
            "events": [
                {
                    "type": "deployment",
                    "id": "d",
                    "service": "api",
                    "status": "failed",
                    "finished_at": "2024-06-11T12:52:09Z",
                },
                {
                    "type": "commit",
                    "id": SHA,
                    "service": "api",
                    "authored_at": "2024-06-11T12:00:00Z",
                },
            ]
        }
    )
    assert isinstance(deployment, DeploymentEvent) and isinstance(commit, CommitEvent)
    assert deployment.started_at == deployment.finished_at
    assert (deployment.environment, deployment.source, deployment.commits) == (
        "prod",
        "generic",
        (),
    )
    assert commit.committed_at == commit.authored_at


def test_every_problem_is_reported_with_its_path() -> None:
    payload = {
        "events": [
            {
                "type": "deployment",
                "id": "d",
                "service": "api",
                "status": "ok",
                "finished_at": "2024-06-11T12:52:09",
            },
            {
                "type": "commit",
                "id": "abc123",
                "service": "api",
                "authored_at": "2024-06-11T12:00:00Z",
            },
            {"type": "release"},
            {
                "type": "incident",
                "id": "i",
                "service": "api",
                "opened_at": "2024-06-11T12:00:00Z",
                "owner": "ops",
            },
        ]
    }
    with pytest.raises(PayloadError) as caught:
        parse_events(payload)
    assert caught.value.problems == (
        "events.0.status: Input should be 'succeeded', 'failed' or 'rolled_back'",
        "events.0.finished_at: Input should have timezone info",
        "events.1.id: must be a full commit sha (40 or 64 hexadecimal digits)",
        "events.2: Input tag 'release' found using 'type' does not match any of the expected "
        "tags: 'deployment', 'incident', 'commit'",
        "events.3.owner: Extra inputs are not permitted",
    )


def test_cross_field_problems_are_located() -> None:
    payload = {
        "events": [
            {
                "type": "incident",
                "id": "i",
                "service": "api",
                "opened_at": "2024-06-11T12:00:00Z",
                "resolved_at": "2024-06-11T11:00:00Z",
            },
            {
                "type": "deployment",
                "id": "d",
                "service": "api",
                "status": "succeeded",
                "started_at": "2024-06-11T13:00:00Z",
                "finished_at": "2024-06-11T12:00:00Z",
            },
        ]
    }
    with pytest.raises(PayloadError) as caught:
        parse_events(payload)
    assert caught.value.problems == (
        "events.0.resolved_at: is before opened_at",
        "events.1.finished_at: is before started_at",
    )


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([], "body: expected a JSON object with an 'events' list"),
        ({}, "events: Field required"),
    ],
)
def test_body_shape(payload: object, problem: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_events(payload)
    assert caught.value.problems == (problem,)


def test_schema_is_published() -> None:
    schema = EventBatch.model_json_schema()
    assert schema["required"] == ["events"]
