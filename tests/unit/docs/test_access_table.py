"""docs/api.md carries the access table the server enforces (api/access.py)."""

from __future__ import annotations

from pathlib import Path

from code_engine.api.access import render_table

DOCS = Path(__file__).parents[3] / "docs" / "api.md"


def test_docs_carry_the_access_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    start, end = "<!-- access-table:start -->\n", "<!-- access-table:end -->"
    assert start in text and end in text, "docs/api.md lost its access table markers"
    table = text.split(start, 1)[1].split(end, 1)[0]
    assert table == render_table(), "docs/api.md's access table differs from api/access.py"
