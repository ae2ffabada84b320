"""Pure pieces around the four keys: gauges, Grafana model, sparklines, SLO verdicts, docs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from code_engine.dora import grafana
from code_engine.dora.events import DeploymentEvent, DeploymentStatus
from code_engine.dora.gauges import GAUGES, families
from code_engine.dora.metrics import compute_four_keys
from code_engine.dora.operations import Measured, judge
from code_engine.dora.window import parse_days
from code_engine.settings import Settings
from code_engine.spec.quality import Slos
from code_engine.web.sparkline import sparkline

DOCS = Path(__file__).parents[3] / "docs"
T0 = datetime(2024, 6, 3, tzinfo=timezone.utc)


def _keys():
    deploys = [
        DeploymentEvent(f"d{n}", "api", "prod", DeploymentStatus.SUCCEEDED,
                        T0 + timedelta(hours=n), T0 + timedelta(hours=n))
        for n in range(3)
    ]  # fmt: skip
    return compute_four_keys(deploys, [], [], service="api", start=T0, end=T0 + timedelta(days=7))


def test_gauges_leave_out_metrics_without_samples() -> None:
    by_name = {family.name: family for family in families([_keys()])}
    assert by_name["code_dora_deployments"].samples[0].value == 3
    assert by_name["code_dora_lead_time_median_hours"].samples == []
    bands = {s.labels["metric"]: s.value for s in by_name["code_dora_band"].samples}
    assert bands == {"deployment_frequency": 2, "change_failure_rate": 3}  # one day a week: high
    met = {s.labels["metric"]: s.value for s in by_name["code_dora_target_met"].samples}
    assert met == {"deployment_frequency": 0.0, "change_failure_rate": 1.0}


def test_every_gauge_and_setting_is_documented() -> None:
    metrics = (DOCS / "metrics.md").read_text()
    for name in [*(g[0] for g in GAUGES), "code_dora_band", "code_dora_target_met"]:
        assert f"| `{name}` |" in metrics, name
    configuration = (DOCS / "configuration.md").read_text()
    for field in Settings.model_fields:
        assert f"`CODE_{field.upper()}`" in configuration, field


def test_docs_name_the_real_routes() -> None:
    text = (DOCS / "metrics.md").read_text()
    assert "/api/v1/dora/" not in text
    for route in (
        "/api/v1/events",
        "/api/v1/webhooks/github",
        "/api/v1/webhooks/alertmanager",
        "/api/v1/webhooks/argocd",
        "/api/v1/metrics/dora",
    ):
        assert route in text


def test_grafana_dashboard_queries_only_exported_gauges() -> None:
    model = grafana.dashboard()
    exported = {g[0] for g in GAUGES} | {"code_dora_band", "code_dora_target_met"}
    exprs = [t["expr"] for p in model["panels"] for t in p["targets"]]
    assert len(model["panels"]) == 12
    for expr in exprs:
        assert re.match(r"^(code_dora_\w+)\{", expr)[1] in exported  # type: ignore[index]
    variables = [v["name"] for v in model["templating"]["list"]]
    assert variables == ["datasource", "environment", "service"]
    assert all(p["datasource"]["type"] == "prometheus" for p in model["panels"])


def test_sparkline_scales_and_breaks_at_gaps() -> None:
    line = sparkline([1.0, 3.0, None, 2.0], width=64, height=24)
    assert line.segments == ("2.0,22.0 22.0,2.0", "62.0,12.0")
    assert line.last == (62.0, 12.0) and (line.low, line.high) == (1.0, 3.0)
    assert sparkline([None, None]).segments == ()
    assert sparkline([5.0]).segments == ("2.0,26.0",)


def test_slo_verdicts() -> None:
    slos = Slos(p95_latency_ms=200, error_rate_percent=0.1, availability_percent=99.9)
    verdicts = {o.key: o.passed for o in judge(Measured(99.95, 250.0, 0.05), slos)}
    assert verdicts == {"uptime": True, "p95_latency": False, "error_rate": True}
    assert all(o.passed is None for o in judge(Measured(), slos))


@pytest.mark.parametrize(("text", "days"), [("7d", 7), ("30d", 30), ("90D", 90), ("14", 14)])
def test_window_days(text: str, days: int) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["0d", "-7d", "month", "99999d", ""])
def test_bad_window_days(text: str) -> None:
    with pytest.raises(ValueError, match="window"):
        parse_days(text)
