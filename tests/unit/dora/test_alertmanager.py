"""Alertmanager webhook v4: firing opens, resolved closes, keyed by fingerprint."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from code_engine.dora.alertmanager import LabelNames, parse_webhook
from code_engine.dora.dedupe import dedupe
from code_engine.dora.events import PayloadError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dora"
UTC = timezone.utc


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def test_firing_opens_an_incident_and_skips_alerts_without_a_service() -> None:
    [incident] = parse_webhook(load("alertmanager_firing.json"))
    assert incident.external_id == ("alertmanager:5e8c0b6a1d2f3e47@2024-06-11T13:04:39.812734Z")
    assert incident.service == "checkout-api"
    assert incident.environment == "prod"
    assert incident.severity == "critical"
    assert incident.opened_at == datetime(2024, 6, 11, 13, 4, 39, 812734, tzinfo=UTC)
    assert incident.resolved_at is None
    assert incident.title == "checkout-api error rate above 1%"
    assert (incident.source, incident.deployment_id) == ("alertmanager", None)


def test_resolved_closes_the_same_incident() -> None:
    [opened] = parse_webhook(load("alertmanager_firing.json"))
    [resolved] = parse_webhook(load("alertmanager_resolved.json"))
    assert resolved.external_id == opened.external_id
    assert resolved.resolved_at == datetime(2024, 6, 11, 13, 41, 9, 812734, tzinfo=UTC)
    assert dedupe([resolved, opened]) == [resolved]
    assert dedupe([opened, resolved]) == [resolved]


def test_refiring_after_resolution_is_a_new_incident() -> None:
    again = load("alertmanager_firing.json")
    again["alerts"][0]["startsAt"] = "2024-06-12T09:00:00Z"
    [first] = parse_webhook(load("alertmanager_firing.json"))
    [second] = parse_webhook(again)
    assert first.external_id != second.external_id


def test_label_names_are_configurable() -> None:
    payload = load("alertmanager_firing.json")
    labels = LabelNames(service=("job",), environment=("stage",), severity=("level",))
    incidents = parse_webhook(payload, labels=labels, default_environment="staging")
    assert [i.service for i in incidents] == ["checkout-api", "node-exporter"]
    assert {i.environment for i in incidents} == {"staging"}
    assert {i.severity for i in incidents} == {""}


def test_deployment_id_from_labels_or_annotations() -> None:
    payload = load("alertmanager_firing.json")
    payload["alerts"][0]["annotations"]["deployment_id"] = "github:1873442210"
    [incident] = parse_webhook(payload)
    assert incident.deployment_id == "github:1873442210"


def test_resolved_before_start_is_clamped() -> None:
    payload = load("alertmanager_resolved.json")
    payload["alerts"][0]["endsAt"] = "2024-06-11T13:00:00Z"
    [incident] = parse_webhook(payload)
    assert incident.resolved_at == incident.opened_at


def test_missing_annotations_and_null_labels_are_tolerated() -> None:
    payload = load("alertmanager_firing.json")
    del payload["alerts"][0]["annotations"]
    payload["alerts"][1]["labels"] = None
    [incident] = parse_webhook(payload)
    assert incident.title == "CheckoutHighErrorRate"


def mutate_alert(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(load("alertmanager_resolved.json"))
    payload["alerts"][0].update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({**load("alertmanager_firing.json"), "version": "3"}, "version: unsupported"),
        ({"version": "4"}, "alerts: expected a list"),
        ({"version": "4", "alerts": ["x"]}, "alerts.0: expected a JSON object"),
        (mutate_alert(status="pending"), "alerts.0.status: expected 'firing' or 'resolved'"),
        (mutate_alert(endsAt="0001-01-01T00:00:00Z"), "alerts.0.endsAt: a resolved alert needs"),
        (mutate_alert(endsAt=None), "alerts.0.endsAt: a resolved alert needs"),
        (mutate_alert(endsAt=17), "alerts.0.endsAt: expected an RFC 3339 timestamp"),
        (mutate_alert(startsAt="2024-06-11T13:00:00"), "alerts.0.startsAt: timestamp"),
        (mutate_alert(fingerprint=""), "alerts.0.fingerprint: expected a non-empty string"),
        (mutate_alert(labels=["service"]), "alerts.0.labels: expected a JSON object"),
    ],
)
def test_invalid_payloads_name_the_field(payload: dict[str, Any], problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        parse_webhook(payload)
