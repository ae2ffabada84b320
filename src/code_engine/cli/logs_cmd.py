"""`codectl logs SERVICE`: what the instances of a service environment wrote."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from code_engine.deploy.local.logfiles import environment_log_dir
from code_engine.deploy.local.logtail import tail_logs
from code_engine.errors import NotFoundError
from code_engine.settings import Settings


def register(app: typer.Typer) -> None:
    """Add the `logs` command."""
    app.command("logs")(logs)


def logs(
    service: str = typer.Argument(..., help="Service name, as in its code.yaml."),
    env: str = typer.Option("dev", "--env", "-e", help="Environment."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
    lines: int = typer.Option(50, "--lines", "-n", min=0, help="Lines per log to start with."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Data directory (default: CODE_DATA_DIR)."
    ),
) -> None:
    """Print the last lines of every instance log of SERVICE in ENV (and the router's), the
    secret values given to the instances masked."""
    root = data_dir or Settings().data_dir
    directory = environment_log_dir(root, service, env)
    if not directory.is_dir():
        raise NotFoundError(
            f"no logs for service {service!r} in environment {env!r} ({directory}); "
            + _existing(directory.parent.parent)
        )
    color = not os.environ.get("NO_COLOR")
    for line in tail_logs(directory, lines, follow):
        source = typer.style(line.source, fg="cyan") if color else line.source
        typer.echo(f"{source} | {line.text}")


def _existing(logs: Path) -> str:
    """`logs exist for: hello --env dev, shop --env staging` (or that none do yet)."""
    found = sorted(f"{d.parent.name} --env {d.name}" for d in logs.glob("*/*") if d.is_dir())
    if not found:
        return "no service has run here yet (codectl deploy ENV starts one)"
    return "logs exist for: " + ", ".join(found)
