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
