"""Rendering for people (Rich tables) and programs (`--output json`).

A table fits an 80-column terminal: it shows a command's essential columns, with times
to the minute and long cells folded; `--output wide` shows every column in full.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table


class OutputFormat(str, Enum):
    table = "table"
    wide = "wide"
    json = "json"


WIDE = 10_000  # `--output wide`: as wide as the content
TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d):\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def console(stderr: bool = False, width: int | None = None) -> Console:
    """A console that respects `NO_COLOR` and never wraps JSON."""
    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, soft_wrap=True, width=width)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, sort_keys=False) + "\n")


def render_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    output: OutputFormat,
    title: str | None = None,
    wide: Sequence[str] | None = None,
) -> None:
    """Print rows as a table of `columns` (`wide` ones with `--output wide`, default the
    same) or as a JSON list (every field)."""
    if output is OutputFormat.json:
        print_json(list(rows))
        return
    console(width=WIDE if output is OutputFormat.wide else None).print(
        table_of(rows, columns, output, title, wide)
    )


def table_of(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    output: OutputFormat,
    title: str | None = None,
    wide: Sequence[str] | None = None,
) -> Table:
    """The table `render_rows` prints (also for live views)."""
    full = output is OutputFormat.wide
    shown = (wide or columns) if full else columns
    table = Table(title=title)
    for column in shown:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(column), short=not full) for column in shown))
    return table


def render_object(obj: Mapping[str, Any], output: OutputFormat) -> None:
    """Print one object as a two-column table or as JSON."""
    if output is OutputFormat.json:
        print_json(obj)
        return
    full = output is OutputFormat.wide
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in obj.items():
        table.add_row(key, _cell(value, short=not full))
    console(width=WIDE if full else None).print(table)


def _cell(value: Any, short: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    text = str(value)
    return TIMESTAMP.sub(r"\1 \2", text) if short else text
