"""The list of command groups of `codectl`."""

from __future__ import annotations

import typer

from code_engine.cli import (
    assess_cmd,
    auth_cmd,
    logs_cmd,
    resources_cmd,
    server_cmd,
    spec_cmd,
)


def register(app: typer.Typer) -> None:
    """Add every command group to the application, in help order."""
    for module in (server_cmd, auth_cmd, resources_cmd, spec_cmd, assess_cmd, logs_cmd):
        module.register(app)
