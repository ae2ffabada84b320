"""A Grafana dashboard (JSON model) over the `code_dora_*` gauges CODE exports."""

from __future__ import annotations

from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# (key, gauge, title, unit, thresholds: (colour, from value) ascending): the seed's targets
PANELS: tuple[tuple[str, str, str, str, tuple[tuple[str, float | None], ...]], ...] = (
    (
        "deployment_frequency",
        "code_dora_deployment_frequency_per_week",
        "Deployment frequency (per week)",
        "none",
        (("red", None), ("green", 10.000001)),
    ),
    (
        "lead_time",
        "code_dora_lead_time_median_hours",
        "Lead time for changes (median, hours)",
        "h",
        (("green", None), ("red", 48)),
    ),
    (
        "change_failure_rate",
        "code_dora_change_failure_rate_percent",
        "Change failure rate (%)",
        "percent",
        (("green", None), ("red", 5)),
    ),
    (
        "time_to_restore",
        "code_dora_time_to_restore_median_hours",
        "Time to restore (median, hours)",
        "h",
        (("green", None), ("red", 1)),
    ),
)
BAND_MAPPING = [
    {"type": "value", "options": {"3": {"text": "elite", "color": "green"}}},
    {"type": "value", "options": {"2": {"text": "high", "color": "blue"}}},
    {"type": "value", "options": {"1": {"text": "medium", "color": "orange"}}},
    {"type": "value", "options": {"0": {"text": "low", "color": "red"}}},
]


SERVICES_QUERY = 'label_values(code_dora_deployments{environment="$environment"}, service)'


def _panel(panel_id: int, title: str, expr: str, kind: str, grid: dict[str, int]) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": grid,
        "targets": [{"refId": "A", "datasource": DATASOURCE, "expr": expr,
                     "legendFormat": "{{service}}"}],
    }  # fmt: skip


def _thresholds(steps: tuple[tuple[str, float | None], ...]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def dashboard(title: str = "CODE - DORA four keys") -> dict[str, Any]:
    """The dashboard: per key a stat of the current value and a time series per service."""
    selector = '{service=~"$service", environment="$environment"}'
    panels: list[dict[str, Any]] = []
    for index, (key, metric, name, unit, steps) in enumerate(PANELS):
        y = index * 8
        stat = _panel(len(panels) + 1, name, f"{metric}{selector}", "stat",
                      {"h": 8, "w": 8, "x": 0, "y": y})  # fmt: skip
        stat["fieldConfig"] = {
            "defaults": {
                "unit": unit,
                "thresholds": _thresholds(steps),
                "color": {"mode": "thresholds"},
            },
            "overrides": [],
        }
        series = _panel(len(panels) + 2, f"{name} over time", f"{metric}{selector}", "timeseries",
                        {"h": 8, "w": 12, "x": 8, "y": y})  # fmt: skip
        series["fieldConfig"] = {"defaults": {"unit": unit}, "overrides": []}
        band_expr = f'code_dora_band{{{selector[1:-1]}, metric="{key}"}}'
        band = _panel(len(panels) + 3, "DORA band", band_expr, "stat",
                      {"h": 8, "w": 4, "x": 20, "y": y})  # fmt: skip
        band["fieldConfig"] = {"defaults": {"mappings": BAND_MAPPING}, "overrides": []}
        panels += [stat, series, band]
    return {
        "title": title,
        "uid": "code-dora",
        "tags": ["code", "dora"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "5m",
        "time": {"from": "now-30d", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                },
                {
                    "name": "environment",
                    "type": "query",
                    "datasource": DATASOURCE,
                    "query": "label_values(code_dora_deployments, environment)",
                    "current": {"text": "prod", "value": "prod"},
                },
                {
                    "name": "service",
                    "type": "query",
                    "datasource": DATASOURCE,
                    "query": SERVICES_QUERY,
                    "multi": True,
                    "includeAll": True,
                    "current": {"text": "All", "value": "$__all"},
                },
            ]
        },  # fmt: skip
        "panels": panels,
    }
