"""Metrics by route template, JSON logs with request id and no secrets, traces of requests."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

from code_engine.api import create_app
from code_engine.observe.logging import configure_logging
from code_engine.observe.tracing import create_tracer_provider, instrument

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_metrics_use_route_templates(client: TestClient, admin_headers) -> None:
    client.get("/api/v1/deployments/41", headers=admin_headers)
    client.get("/api/v1/deployments/42", headers=admin_headers)
    text = client.get("/metrics").text
    assert (
        'code_http_requests_total{method="GET",route="/api/v1/deployments/{deployment_id}",'
        'status="404"} 2.0'
    ) in text
    assert "code_http_request_duration_seconds_bucket" in text
    assert "/api/v1/deployments/41" not in text


def test_json_logs_carry_request_id_and_hide_secrets(client: TestClient, capsys) -> None:
    configure_logging("info", "json")
    try:
        form = {"grant_type": "client_credentials", "client_id": "ghost"}
        form["client_secret"] = "s3cr3t-value"  # pragma: allowlist secret
        client.post("/oauth/token", data=form, headers={"X-Request-Id": "req-123"})
        logging.getLogger("code_engine.test").info("password=%s", "x")
    finally:
        logging.getLogger().handlers = []
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    access = [x for x in lines if x.get("event") == "request"]
    assert access and access[0]["request_id"] == "req-123"
    assert access[0]["route"] == "/oauth/token"
    refused = [x for x in lines if x.get("event") == "token refused"]
    assert refused and refused[0]["principal"] == "ghost"
    assert "s3cr3t-value" not in json.dumps(lines)


def test_requests_and_queries_are_traced(settings, database, clock) -> None:
    exporter = InMemorySpanExporter()
    app = create_app(settings, clock=clock, database=database, migrate=False)
    provider = create_tracer_provider("", exporter=exporter)
    instrument(app, database.engine, provider)
    with TestClient(app) as client:
        client.get("/readyz")
        client.get("/api/v1/services")
    provider.force_flush()
    names = [span.name for span in exporter.get_finished_spans()]
    assert any("/api/v1/services" in n for n in names), names
    assert any(n.startswith("SELECT") or n == "connect" for n in names), names
