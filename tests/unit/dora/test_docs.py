"""docs/metrics.md stays true: its example parses and every reported figure is defined."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

from code_engine.dora.generic import parse_events
from code_engine.dora.metrics import compute_four_keys

DOC = Path(__file__).parents[3] / "docs" / "metrics.md"


def test_generic_example_is_valid() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    events = parse_events(json.loads(blocks[0]))
    assert [type(e).__name__ for e in events] == ["CommitEvent", "DeploymentEvent", "IncidentEvent"]


def test_every_metric_and_detail_is_documented() -> None:
    text = DOC.read_text()
    now = datetime(2024, 6, 3, tzinfo=timezone.utc)
    keys = compute_four_keys([], [], [], service="api", start=now.replace(day=1), end=now)
    for metric in keys.metrics:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{metric.key}`"))
        assert f"`{metric.unit}`" in row
        for detail in metric.details:
            assert f"`{detail}`" in row, detail


def test_bands_name_the_report_and_its_cut_offs() -> None:
    from code_engine.dora import bands
    from code_engine.dora.bands import Band

    text = DOC.read_text(encoding="utf-8")
    assert f"State of DevOps Report {bands.REPORT_YEAR}" in text
    assert bands.REPORT_URL in text
    # the documented cut-offs, each side of every boundary
    assert "| Change failure rate | ≤ 5 % | ≤ 20 % | never | > 20 % |" in text
    assert [bands.change_failure_rate_band(v) for v in (5, 5.01, 20, 20.01)] == [
        Band.ELITE, Band.HIGH, Band.HIGH, Band.LOW,
    ]  # fmt: skip
    assert "| Failed deployment recovery time (median) | < 1 h | < 24 h | never | ≥ 24 h |" in text
    assert [bands.recovery_time_band(v) for v in (0.99, 1, 23.99, 24)] == [
        Band.ELITE, Band.HIGH, Band.HIGH, Band.LOW,
    ]  # fmt: skip
    assert "| Lead time (median) | < 24 h | < 7 days | < 30 days | ≥ 30 days |" in text
    assert [bands.lead_time_band(v) for v in (23.99, 24, 167.99, 168, 719.99, 720)] == [
        Band.ELITE, Band.HIGH, Band.HIGH, Band.MEDIUM, Band.MEDIUM, Band.LOW,
    ]  # fmt: skip
