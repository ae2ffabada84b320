"""Command groups that import their module only when a command of it runs.

`codectl --help` lists every command from a table of names, modules and one-line helps;
the module behind a command (and the database layer, HTTP client or crypto it needs) is
imported when that command, or its own `--help`, is asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer import _click  # Typer's own copy of click
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup

PACKAGE = "code_engine.cli"


@dataclass(frozen=True)
class Lazy:
    """A top-level command: its name, the module whose `register(app)` adds it, its help line."""

    name: str
    module: str
    help: str


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from `lazy`, loaded one module at a time."""

    lazy: ClassVar[tuple[Lazy, ...]] = ()

    def list_commands(self, ctx: _click.Context) -> list[str]:  # noqa: ARG002
        names = [entry.name for entry in self.lazy]
        return names + [name for name in self.commands if name not in names]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:  # noqa: ARG002
        if cmd_name not in self.commands:
            entry = next((e for e in self.lazy if e.name == cmd_name), None)
            if entry is not None:
                self.commands.update(load(entry.module))
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """The command list from the table: no module is imported to print `--help`."""
        rows: list[tuple[str, str]] = []
        limit = formatter.width - 6 - max((len(e.name) for e in self.lazy), default=0)
        for name in self.list_commands(ctx):
            entry = next((e for e in self.lazy if e.name == name), None)
            if entry is not None:
                rows.append((name, make_default_short_help(entry.help, limit)))
            elif (command := self.commands.get(name)) is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def load(module: str) -> dict[str, _click.Command]:
    """Every command `code_engine.cli.<module>.register(app)` adds, by name."""
    registrar: Any = importlib.import_module(f"{PACKAGE}.{module}")
    holder = typer.Typer(rich_markup_mode=None)
    registrar.register(holder)
    group = typer.main.get_group(holder)
    return dict(group.commands)
