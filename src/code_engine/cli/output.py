"""Rendering for people (Rich tables) and programs (`--output json`)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


def console(stderr: bool = False) -> Console:
    """A console that respects `NO_COLOR` and never wraps JSON."""
    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, sort_keys=False) + "\n")


def render_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    output: OutputFormat,
    title: str | None = None,
) -> None:
    """Print rows as a table (only `columns`) or as a JSON list (every field)."""
    if output is OutputFormat.json:
        print_json(list(rows))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    console().print(table)


def render_object(obj: Mapping[str, Any], output: OutputFormat) -> None:
    """Print one object as a two-column table or as JSON."""
    if output is OutputFormat.json:
        print_json(obj)
        return
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in obj.items():
        table.add_row(key, _cell(value))
    console().print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)
