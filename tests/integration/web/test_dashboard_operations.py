"""The dashboard's operational metrics: uptime, p95 latency and error rate against the SLOs,
read from the router statistics of a real builtin router, or from a real Prometheus."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.browser.traffic import routed_traffic
from tests.support.network import free_port
from tests.support.prometheus import prometheus_binary, wait_for_samples

from code_engine.api.app import runtime_of
from code_engine.auth import principals
from code_engine.auth.roles import Binding
from code_engine.catalog.store import EnvironmentDraft, create_service
from code_engine.cli.dora_demo import seed_service
from code_engine.clock import utc_now
from code_engine.server import create_app
from code_engine.settings import Settings
from code_engine.store.engine import make_database
from code_engine.store.migrate import upgrade
from code_engine.web.views import format_objective

PASSWORD = "correct horse battery"
CODE_YAML = """\
service: shop
repo: .
environments:
  - name: prod
    target:
      kind: local
      command: python -m http.server {port}
slos:
  p95_latency_ms: 250
  error_rate_percent: 10
  availability_percent: 99.5
"""


def _login(client: TestClient) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    viewer = frozenset({Binding.parse("viewer")})
    principals.create_user(runtime.db, runtime.clock, "mara", PASSWORD, viewer)
    form = {"username": "mara", "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def _section(page: str, service: str) -> str:
    start = page.index(f'data-service="{service}"')
    end = page.find("<section", start)
    return page[start : end if end > 0 else len(page)]


def _objectives(section: str) -> dict[str, tuple[str, str, str]]:
    """key -> (state, value, SLO) of each operational card."""
    cards = re.findall(
        r'<article class="slo (\w+)" data-objective="(\w+)">.*?<span class="value">([^<]*)</span>'
        r'.*?<span class="target">SLO ([^<]*)</span>',
        section,
        re.S,
    )
    return {key: (state, value, html.unescape(target)) for state, key, value, target in cards}


def _operations_api(client: TestClient, service: str, window: str = "30d") -> dict[str, Any]:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    bindings = frozenset({Binding.parse("viewer")})
    principals.ensure_principal(runtime.db, "t", bindings)
    token = runtime.tokens.issue("t", "client", bindings, 60)
    response = client.get(
        "/api/v1/metrics/operations",
        params={"service": service, "window": window},
        headers={"Authorization": f"Bearer {token.access_token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_no_router_means_no_data_and_says_why(client: TestClient) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    seed_service(runtime.db, runtime.clock(), service="demo-shop", days=14)
    _login(client)
    page = client.get("/?window=30d")
    assert page.status_code == 200, page.text
    section = _section(page.text, "demo-shop")
    assert '<div class="operations" data-source="router">' in section
    assert "router statistics, since the router's counters were last reset" in html.unescape(
        section
    )
    assert _objectives(section) == {
        "uptime": ("none", "–", "≥ 99.9 %"),
        "p95_latency": ("none", "–", "< 200 ms"),
        "error_rate": ("none", "–", "< 0.1 %"),
    }
    assert section.count('<span class="band none">no data</span>') == 3
    note = re.search(r'<p class="note">([^<]*)</p>', section)
    assert note is not None
    assert "uptime needs Prometheus" in note[1] and "unreachable" in note[1]
    assert "default SLOs" in note[1]
    # the four keys are still the four keys
    assert len(re.findall(r'<article class="key (elite|high|medium|low)"', page.text)) == 4


def test_router_statistics_are_judged_against_code_yaml(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "code.yaml").write_text(CODE_YAML)
    with runtime.db.session() as session:
        drafts = [EnvironmentDraft("prod")]
        create_service(session, "shop", str(repo), "", drafts, runtime.clock())
    seed_service(runtime.db, runtime.clock(), service="demo-shop", days=14)
    _login(client)
    with routed_traffic(settings.data_dir, "shop", "prod", requests=40, failures=2):
        page = client.get("/?window=7d")
        api = _operations_api(client, "shop", "7d")
    assert page.status_code == 200, page.text
    shop = _objectives(_section(page.text, "shop"))
    figures = {o["key"]: o for o in api["objectives"]}
    assert figures["error_rate"]["value"] == 5.0 and figures["error_rate"]["passed"] is True
    assert shop["error_rate"] == ("met", format_objective("error_rate", 5.0), "< 10 %")
    p95 = figures["p95_latency"]["value"]
    assert p95 is not None and p95 < 250
    assert shop["p95_latency"] == ("met", format_objective("p95_latency", p95), "< 250 ms")
    assert shop["uptime"] == ("none", "–", "≥ 99.5 %")
    # another service of the page has no router: its figures stay empty
    assert {state for state, _, _ in _objectives(_section(page.text, "demo-shop")).values()} == {
        "none"
    }


def test_missed_objectives_are_red(client: TestClient, settings: Settings) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    with runtime.db.session() as session:
        create_service(session, "shop", "", "", [EnvironmentDraft("prod")], runtime.clock())
    _login(client)
    with routed_traffic(settings.data_dir, "shop", "prod", requests=20, failures=20):
        page = client.get("/")
    section = _section(page.text, "shop")
    assert _objectives(section)["error_rate"] == ("missed", "100", "< 0.1 %")
    assert '<span class="band missed">missed</span>' in section


# --- Prometheus -------------------------------------------------------------------------

EXPOSITION = """\
# TYPE http_requests_total counter
http_requests_total{{code="200"}} {ok}
http_requests_total{{code="500"}} {failed}
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{{le="0.05"}} {fast}
http_request_duration_seconds_bucket{{le="0.1"}} {total}
http_request_duration_seconds_bucket{{le="+Inf"}} {total}
http_request_duration_seconds_sum{{}} {sum}
http_request_duration_seconds_count{{}} {total}
"""


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[str]:
    """A real Prometheus scraping a service endpoint labelled service="shop"."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    binary = prometheus_binary()
    scrapes = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            scrapes[0] += 1
            n = scrapes[0]
            body = EXPOSITION.format(
                ok=1999 * n, failed=n, fast=1800 * n, total=2000 * n, sum=80.0 * n
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=endpoint.serve_forever, args=(0.05,), daemon=True).start()
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: shop\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{endpoint.server_address[1]}']\n"
        "        labels: {service: shop}\n"
    )
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        query = 'count_over_time(http_requests_total{service="shop",code="200"}[1m])'
        wait_for_samples(url, process, query, at_least=4)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        endpoint.shutdown()
        endpoint.server_close()


@pytest.mark.slow
def test_prometheus_figures_over_the_window(
    prometheus: str, sqlite_url: str, data_dir: Path
) -> None:
    database = make_database(sqlite_url)
    upgrade(database.engine)
    with database.session() as session:
        create_service(
            session, "shop", "", "", [EnvironmentDraft("prod")], utc_now() - timedelta(days=1)
        )
    database.dispose()
    settings = Settings(
        data_dir=data_dir, database_url=sqlite_url, metrics_prometheus_url=prometheus
    )
    app = create_app(settings, clock=utc_now)
    with TestClient(app) as client:
        _login(client)
        page = client.get("/?window=7d")
        api = _operations_api(client, "shop", "7d")
    section = _section(page.text, "shop")
    assert '<div class="operations" data-source="prometheus">' in section
    assert "Prometheus, over the window" in section
    figures = {o["key"]: o for o in api["objectives"]}
    seen = _objectives(section)
    assert figures["uptime"]["value"] == 100.0 and seen["uptime"] == ("met", "100.00", "≥ 99.9 %")
    # one request in 2000 failed: 0.05 %, shown with its digits against < 0.1 %
    assert figures["error_rate"]["value"] == pytest.approx(0.05, rel=0.01)
    assert seen["error_rate"] == ("met", "0.05", "< 0.1 %")
    # 90 % of requests under 50 ms, all under 100 ms: p95 halfway in (50, 100] ms
    assert figures["p95_latency"]["value"] == pytest.approx(75.0, rel=0.05)
    assert seen["p95_latency"] == (
        "met",
        format_objective("p95_latency", figures["p95_latency"]["value"]),
        "< 200 ms",
    )
