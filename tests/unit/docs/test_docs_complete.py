"""Documentation is part of done: every command, setting and metric is documented."""

from __future__ import annotations

from pathlib import Path

from code_engine.cli.main import _register, app
from code_engine.cli.reference import render
from code_engine.observe.metrics import create_metrics
from code_engine.settings import Settings

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_cli_reference_is_current() -> None:
    _register()
    expected = render(app)
    actual = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "run: python -m code_engine.cli.reference > docs/cli.md"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [
        f"CODE_{name.upper()}"
        for name in Settings.model_fields
        if f"`CODE_{name.upper()}`" not in text
    ]
    assert missing == []


def test_every_api_metric_is_documented() -> None:
    text = (DOCS / "observability.md").read_text(encoding="utf-8")
    registry = create_metrics().registry
    names = {m.name for m in registry.collect() if m.name.startswith("code_")}
    missing = sorted(n for n in names if f"`{n}" not in text)
    assert names and missing == []
