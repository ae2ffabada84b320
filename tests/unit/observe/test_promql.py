"""One module writes the PromQL of a service's traffic; the analysis and the report use it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from code_engine.deploy.rollout.prometheus import PromQueries
from code_engine.observe import promql

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_the_documented_slo_queries_are_the_ones_sent() -> None:
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    for query in promql.SLO_QUERIES.values():
        documented = query.replace("{service}", "S").replace("{window}", "W")
        assert f"`{documented}`" in text


def test_the_canary_and_the_report_count_the_same_series() -> None:
    canary = PromQueries()
    per_service = promql.render(
        promql.SLO_QUERIES["error_rate_percent"], service="shop", window=timedelta(minutes=5)
    )
    per_version = promql.render(
        canary.errors, service="shop", version="v2", window=timedelta(minutes=5)
    )
    assert per_version == (
        'sum(increase(http_requests_total{service="shop",version="v2",code=~"5.."}[300s]))'
    )
    assert per_version.replace(',version="v2"', "") in per_service
    assert "http_request_duration_seconds_bucket" in canary.p95_seconds


def test_values_are_escaped_inside_promql_strings() -> None:
    query = promql.render(
        promql.SLO_QUERIES["uptime_percent"], service='a"b\\c', window=timedelta()
    )
    assert query == '100 * avg(avg_over_time(up{service="a\\"b\\\\c"}[1s]))'
