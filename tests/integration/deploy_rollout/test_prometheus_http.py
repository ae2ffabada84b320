"""PrometheusProvider against a local HTTP server answering with real Prometheus API shapes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from tests.support.network import free_port

from code_engine.deploy.rollout import AnalysisSpec, MetricError, Verdict, evaluate
from code_engine.deploy.rollout.prometheus import (
    PrometheusError,
    PrometheusProvider,
    PromQueries,
)
from code_engine.observe.promql import promql_duration

UNTIL = datetime(2024, 5, 1, 12, 1, tzinfo=timezone.utc)
SINCE = UNTIL - timedelta(minutes=1)
STAMP = UNTIL.timestamp()


def vector(*values: str) -> dict[str, Any]:
    result = [
        {"metric": {"service": "hello", "version": "v2"}, "value": [STAMP, v]} for v in values
    ]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def error(kind: str, message: str) -> dict[str, Any]:
    return {"status": "error", "errorType": kind, "error": message}


Reply = tuple[int, Any]  # (HTTP status, JSON body or raw text)


@dataclass
class FakePrometheus:
    """Answers `/api/v1/query` by which default query it is sent."""

    url: str
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    replies: dict[str, Reply] = field(default_factory=dict)
    delay: float = 0.0

    def answer(self, query: str) -> Reply:
        kinds = [
            ("histogram_quantile", "p95"),
            ("sum by (le) (increase", "buckets"),
            ('code="504"', "timeouts"),
            ('code="502"', "connect_errors"),
            ("5..", "errors"),
        ]
        kind = next((k for marker, k in kinds if marker in query), "requests")
        default = (200, vector()) if kind == "buckets" else (200, vector("0"))
        return self.replies.get(kind, default)


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    fake = FakePrometheus("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            params = parse_qs(parsed.query)
            fake.requests.append({"path": [parsed.path], **params})
            time.sleep(fake.delay)
            status, body = fake.answer(params.get("query", [""])[0])
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            ctype = "text/html" if isinstance(body, str) else "application/json"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider(prometheus: FakePrometheus) -> Iterator[PrometheusProvider]:
    with PrometheusProvider(prometheus.url, "hello", timeout=2.0) as p:
        yield p


def buckets(*pairs: tuple[str, str]) -> dict[str, Any]:
    result = [{"metric": {"le": le}, "value": [STAMP, count]} for le, count in pairs]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def test_the_tail_timeouts_and_connection_errors_are_asked_too(
    prometheus: FakePrometheus, provider: PrometheusProvider
) -> None:
    prometheus.replies = {
        "requests": (200, vector("1000")),
        "errors": (200, vector("12")),
        "timeouts": (200, vector("10")),
        "connect_errors": (200, vector("2")),
        "buckets": (200, buckets(("0.1", "970"), ("1", "980"), ("5", "1000"), ("+Inf", "1000"))),
    }
    sample = provider.sample("v2", SINCE, UNTIL)
    assert (sample.timeouts, sample.connect_errors) == (10.0, 2.0)
    assert sample.latency_buckets == (
        (0.1, 970.0),
        (1.0, 980.0),
        (5.0, 1000.0),
        (float("inf"), 1000.0),
    )
    assert not any("histogram_quantile" in q["query"][0] for q in prometheus.requests[1:])
    measured = evaluate(sample, AnalysisSpec(max_error_rate=0.05, max_p99_ms=5000))
    assert measured.verdict is Verdict.FAIL
    assert measured.reason == "2.00% of requests slower than 1000 ms, above 0.50%"


def test_sample_asks_its_queries_at_the_window_end(
    prometheus: FakePrometheus, provider: PrometheusProvider
) -> None:
    prometheus.replies = {
        "requests": (200, vector("1200")),
        "errors": (200, vector("3")),
        "p95": (200, vector("0.125")),
    }
    sample = provider.sample("v2", SINCE, UNTIL)
    assert (sample.requests, sample.errors, sample.p95_ms) == (1200.0, 3.0, 125.0)
    assert (sample.version, sample.since, sample.until) == ("v2", SINCE, UNTIL)
    # requests, errors, the histogram (empty here), so the p95, then timeouts, 502s
    assert [r["path"] for r in prometheus.requests] == [["/api/v1/query"]] * 6
    assert {r["time"][0] for r in prometheus.requests} == {f"{STAMP:.3f}"}
    queries = [r["query"][0] for r in prometheus.requests]
    assert queries[0] == ('sum(increase(http_requests_total{service="hello",version="v2"}[60s]))')
    assert 'code=~"5.."' in queries[1] and "[60s]" in queries[2]
    assert "histogram_quantile(0.95" in queries[3] and 'code="504"' in queries[4]
    assert evaluate(sample, AnalysisSpec()).verdict is Verdict.FAIL  # 0.25% errors


def test_no_series_means_no_traffic_and_no_errors(
    prometheus: FakePrometheus, provider: PrometheusProvider
) -> None:
    prometheus.replies = {"requests": (200, vector()), "errors": (200, vector())}
    prometheus.replies["p95"] = (200, vector("NaN"))
    sample = provider.sample("v2", SINCE, UNTIL)
    assert (sample.requests, sample.errors, sample.p95_ms) == (0.0, 0.0, None)
    assert evaluate(sample, AnalysisSpec()).verdict is Verdict.INCONCLUSIVE


def test_nan_latency_with_traffic_is_inconclusive(
    prometheus: FakePrometheus, provider: PrometheusProvider
) -> None:
    prometheus.replies = {"requests": (200, vector("500")), "p95": (200, vector("NaN"))}
    measurement = evaluate(provider.sample("v2", SINCE, UNTIL), AnalysisSpec())
    assert (measurement.verdict, measurement.reason) == (Verdict.INCONCLUSIVE, "no latency data")


def test_scalar_results_and_custom_templates(prometheus: FakePrometheus) -> None:
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [STAMP, "42"]}}
    prometheus.replies = {"requests": (200, scalar), "p95": (200, vector("+Inf"))}
    queries = PromQueries(
        requests='scalar(sum(reqs{app="{service}",v="{version}"}[{window}]))',
        errors='sum(errs{app="{service}",v="{version}",code=~"5.."})',
        p95_seconds='histogram_quantile(0.95, lat{app="{service}"})',
    )
    with PrometheusProvider(prometheus.url, 'he"llo', queries=queries) as provider:
        sample = provider.sample("v\\2", SINCE, SINCE + timedelta(milliseconds=300))
    assert sample.requests == 42.0 and sample.p95_ms == float("inf")
    assert prometheus.requests[0]["query"] == ['scalar(sum(reqs{app="he\\"llo",v="v\\\\2"}[1s]))']


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            (400, error("bad_data", 'parse error at char 5: unexpected "}"')),
            'Prometheus rejected \'sum(increase(http_requests_total{service="hello",version="v2"}'
            "[60s]))': bad_data: parse error at char 5",
        ),
        ((503, "<html>Service Unavailable</html>"), "HTTP 503 with a non-JSON body"),
        ((200, {"status": "unknown"}), "HTTP 200: no error message"),
        ((500, {"status": "success", "data": {}}), "answered HTTP 500"),
        ((200, {"status": "success"}), "has no data"),
        ((200, ["not", "an", "object"]), "unexpected Prometheus response"),
        ((200, vector("1", "2")), "returned 2 series; aggregate it"),
        ((200, {"status": "success", "data": {"resultType": "matrix", "result": []}}), "matrix"),
        (
            (200, {"status": "success", "data": {"resultType": "vector", "result": [{}]}}),
            "malformed",
        ),
        ((200, vector("many")), "malformed Prometheus result"),
    ],
)
def test_bad_answers_raise_clear_errors(
    prometheus: FakePrometheus, provider: PrometheusProvider, reply: Reply, message: str
) -> None:
    prometheus.replies = {"requests": reply}
    with pytest.raises(PrometheusError, match=None) as caught:
        provider.sample("v2", SINCE, UNTIL)
    assert message in str(caught.value)
    assert isinstance(caught.value, MetricError)


def test_timeout(prometheus: FakePrometheus) -> None:
    prometheus.delay = 0.5
    with PrometheusProvider(prometheus.url, "hello", timeout=0.1) as provider:
        with pytest.raises(PrometheusError, match=r"did not answer within 0\.1s"):
            provider.query("up", UNTIL)


def test_unreachable() -> None:
    port = free_port()  # nobody listens there
    with PrometheusProvider(f"http://127.0.0.1:{port}", "hello", timeout=1.0) as provider:
        with pytest.raises(PrometheusError, match="cannot reach Prometheus"):
            provider.query("up", UNTIL)


def test_injected_client_is_not_closed(prometheus: FakePrometheus) -> None:
    import httpx

    with httpx.Client() as client:
        PrometheusProvider(prometheus.url, "hello", client=client).close()
        assert not client.is_closed


@pytest.mark.parametrize(
    ("window", "text"),
    [(timedelta(seconds=59.6), "60s"), (timedelta(0), "1s"), (timedelta(hours=1), "3600s")],
)
def test_promql_duration(window: timedelta, text: str) -> None:
    assert promql_duration(window) == text
