"""The list of command groups of `codectl`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add every command group to the application."""
