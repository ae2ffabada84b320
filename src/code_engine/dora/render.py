"""The four keys as JSON-ready data: one shape for the API, `--output json` and the web."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from code_engine.dora import bands
from code_engine.dora.metrics import FourKeys, Metric
from code_engine.dora.report import ServiceReport
from code_engine.dora.trend import TrendPoint

TITLES = {
    "deployment_frequency": "Deployment frequency",
    "lead_time": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "time_to_restore": "Time to restore",
}


BANDS = {"report": bands.REPORT, "year": bands.REPORT_YEAR, "url": bands.REPORT_URL}
"""Which DORA report the bands come from (shown beside every figure)."""


def metric_to_dict(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "title": TITLES[metric.key],
        "value": metric.value,
        "unit": metric.unit,
        "band": None if metric.band is None else metric.band.value,
        "target": str(metric.target),
        "passed": metric.passed,
        "sample_size": metric.sample_size,
        "details": dict(metric.details),
    }


def point_to_dict(point: TrendPoint) -> dict[str, Any]:
    data = asdict(point)
    data["start"], data["end"] = point.start.isoformat(), point.end.isoformat()
    return data


def keys_to_dict(keys: FourKeys) -> dict[str, Any]:
    return {metric.key: metric_to_dict(metric) for metric in keys.metrics}


def report_to_dict(report: ServiceReport) -> dict[str, Any]:
    return {
        "service": report.keys.service,
        "environment": report.keys.environment,
        "metrics": keys_to_dict(report.keys),
        "trend": [point_to_dict(point) for point in report.trend],
    }
