"""PrometheusProvider against a real Prometheus scraping a tiny metrics endpoint.

Skips when the `prometheus` binary is missing; CODE_TEST_REQUIRE_PROMETHEUS=1 (set by CI) makes
that a failure instead.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.support.network import free_port
from tests.support.prometheus import prometheus_binary, wait_for_samples

from code_engine.deploy.rollout import AnalysisSpec, Verdict, evaluate
from code_engine.deploy.rollout.prometheus import PrometheusProvider

pytestmark = pytest.mark.slow

LABELS = 'service="hello",version="v2"'
# per scrape: 99 successes, 1 server error; latencies put p95 in the (0.25, 0.5] bucket
BUCKETS = (("0.05", 20), ("0.1", 70), ("0.25", 90), ("0.5", 100), ("+Inf", 100))


def exposition(scrapes: int) -> str:
    lines = [
        "# TYPE http_requests_total counter",
        f'http_requests_total{{{LABELS},code="200"}} {99 * scrapes}',
        f'http_requests_total{{{LABELS},code="500"}} {1 * scrapes}',
        "# TYPE http_request_duration_seconds histogram",
    ]
    lines += [
        f'http_request_duration_seconds_bucket{{{LABELS},le="{le}"}} {count * scrapes}'
        for le, count in BUCKETS
    ]
    lines += [
        f"http_request_duration_seconds_sum{{{LABELS}}} {15.0 * scrapes}",
        f"http_request_duration_seconds_count{{{LABELS}}} {100 * scrapes}",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def metrics_endpoint() -> Iterator[str]:
    scrapes = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            scrapes[0] += 1
            body = exposition(scrapes[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def prometheus_url(tmp_path: Path, metrics_endpoint: str) -> Iterator[str]:
    binary = prometheus_binary()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: hello\n"
        f"    static_configs:\n      - targets: ['{metrics_endpoint}']\n"
    )
    address = f"127.0.0.1:{free_port()}"
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address={address}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://{address}"
    try:
        query = f"count_over_time(http_requests_total{{{LABELS},code='200'}}[1m])"
        wait_for_samples(url, process, query, at_least=6)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_provider_against_real_prometheus(prometheus_url: str) -> None:
    until = datetime.now(timezone.utc)
    since = until - timedelta(seconds=5)
    with PrometheusProvider(prometheus_url, "hello", timeout=5.0) as provider:
        sample = provider.sample("v2", since, until)
        absent = provider.sample("v9", since, until)
    assert sample.requests > 0
    assert sample.errors / sample.requests == pytest.approx(0.01, rel=0.02)
    assert sample.p95() == pytest.approx(375.0, rel=0.02)  # from the histogram of the window
    assert sample.latency_buckets is not None and sample.quantile_ms(0.99) is not None
    measurement = evaluate(sample, AnalysisSpec(min_requests=1))
    assert measurement.verdict is Verdict.FAIL
    assert (absent.requests, absent.errors, absent.p95()) == (0.0, 0.0, None)
    assert evaluate(absent, AnalysisSpec()).verdict is Verdict.INCONCLUSIVE
