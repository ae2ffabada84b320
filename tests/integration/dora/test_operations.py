"""Operational metrics against the SLOs of code.yaml: Prometheus, the router, the route."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.testclient import TestClient

from code_engine.catalog.store import EnvironmentDraft, create_service
from code_engine.deploy.router.stats import VersionStats, bucket_index
from code_engine.deploy.traffic import RouterTraffic
from code_engine.dora.operations import (
    PrometheusOperations,
    RouterOperations,
    measure_operations,
)
from code_engine.store.engine import Database

END = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)
START = END - timedelta(days=30)
CODE_YAML = """\
service: shop
repo: .
environments:
  - name: prod
    target:
      kind: local
      command: uvicorn shop:app --port {port}
slos:
  p95_latency_ms: 300
  error_rate_percent: 1
  availability_percent: 99.5
"""


def _service(database: Database, repo: str = "") -> None:
    with database.session() as session:
        create_service(session, "shop", repo, "", [EnvironmentDraft("prod")], START)


def test_prometheus_figures_are_judged_against_code_yaml(
    database: Database, tmp_path: Path
) -> None:
    (tmp_path / "code.yaml").write_text(CODE_YAML)
    _service(database, str(tmp_path))
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query)
        promql = query["query"][0]
        asked.append(promql)
        assert query["time"] == [f"{END.timestamp():.3f}"]
        value = "99.7" if "up{" in promql else "0.5" if "5.." in promql else "250"
        result = [{"metric": {}, "value": [END.timestamp(), value]}]
        return httpx.Response(
            200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
        )

    source = PrometheusOperations(
        "http://prom:9090", httpx.Client(transport=httpx.MockTransport(answer))
    )
    with database.session() as session:
        report = measure_operations(
            session, source, service="shop", environment="prod", start=START, end=END
        )
    verdicts = {o.key: (o.value, o.target, o.passed) for o in report.objectives}
    assert verdicts == {
        "uptime": (99.7, ">= 99.5 %", True),
        "p95_latency": (250.0, "< 300 ms", True),
        "error_rate": (0.5, "< 1 %", True),
    }
    assert all('service="shop"' in q and "[2592000s]" in q for q in asked)
    assert report.source == "prometheus" and report.note == ""


class FakeRouter:
    def __init__(self, stats: dict[str, VersionStats]) -> None:
        self._stats = stats
        self.closed = False

    def stats(self) -> dict[str, VersionStats]:
        return self._stats

    def close(self) -> None:
        self.closed = True


def _stats(requests: int, errors: int, latency_ms: float) -> VersionStats:
    buckets = [0] * 21
    buckets[bucket_index(latency_ms)] = requests
    return VersionStats(requests=requests, errors=errors, buckets=tuple(buckets))


def test_router_counters_of_every_version(database: Database) -> None:
    _service(database)
    router = FakeRouter({"1.0": _stats(900, 0, 40), "1.1": _stats(100, 2, 400)})
    source = RouterOperations(RouterTraffic(lambda _service, _env: router))
    with database.session() as session:
        report = measure_operations(
            session, source, service="shop", environment="prod", start=START, end=END
        )
    figures: dict[str, Any] = {o.key: o for o in report.objectives}
    assert figures["error_rate"].value == 0.2 and figures["error_rate"].passed is False
    assert figures["p95_latency"].value is not None and figures["p95_latency"].value > 200
    assert figures["uptime"].value is None and "uptime needs Prometheus" in report.note
    assert router.closed


def test_the_route_says_why_there_are_no_figures(client: TestClient, admin_headers) -> None:
    assert (
        client.post("/api/v1/services", json={"name": "shop"}, headers=admin_headers).status_code
        == 201
    )
    response = client.get(
        "/api/v1/metrics/operations", params={"service": "shop"}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "router"
    assert [o["value"] for o in body["objectives"]] == [None, None, None]
    assert "unreachable" in body["note"] and "default SLOs" in body["note"]
    assert (
        client.get(
            "/api/v1/metrics/operations", params={"service": "ghost"}, headers=admin_headers
        ).status_code
        == 404
    )
