"""Every metric of the DORA collector is documented: the gauges in metrics.md, the refresh in
observability.md."""

from __future__ import annotations

from pathlib import Path

from code_engine.dora.gauges import DoraCollector, refresh_families
from code_engine.observe.refresher import Refresher

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_every_dora_collector_metric_is_documented() -> None:
    collector = DoraCollector(Refresher("docs", lambda _now: [], lambda: None, interval=1))  # type: ignore[arg-type,return-value]
    names = {family.name for family in collector.describe()}
    refresh = {family.name for family in refresh_families(None)}
    observability = (DOCS / "observability.md").read_text(encoding="utf-8")
    metrics = (DOCS / "metrics.md").read_text(encoding="utf-8")
    assert refresh and refresh < names
    assert sorted(n for n in refresh if f"| `{n}` |" not in observability) == []
    assert sorted(n for n in names - refresh if f"| `{n}` |" not in metrics) == []
