"""The `codectl` application and its single error boundary."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import typer
from rich.text import Text

from code_engine import __version__
from code_engine.cli.output import console
from code_engine.errors import CodeError

app = typer.Typer(
    name="codectl",
    help="CODE: Continuous Operations & Deployment Engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"codectl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """CODE: Continuous Operations & Deployment Engine."""


_registered: list[bool] = []


def _register() -> None:
    """Attach every command group once; an explicit list, read top to bottom."""
    from code_engine.cli import commands

    if True not in _registered:
        commands.register(app)
        _registered.append(True)


def _register_ci_only() -> None:
    """Only `codectl ci`: its warm run replays cached steps in well under a second, which
    importing every other command group (the database layer among them) would not allow."""
    from code_engine.cli import ci_cmd

    if not _registered:
        ci_cmd.register(app)
        _registered.append(False)


def crash_log_path() -> Path:
    return Path.home() / ".cache" / "code-engine" / "crash.log"


def run(argv: list[str] | None = None) -> None:
    """Entry point: maps CODE errors to exit codes, logs anything unexpected for a bug report."""
    if (sys.argv[1:] if argv is None else argv)[:1] == ["ci"]:
        _register_ci_only()
    else:
        _register()
    try:
        app(args=argv, prog_name="codectl")
    except CodeError as exc:
        message = Text("error:", style="red").append(f" {exc}", style="")
        console(stderr=True).print(message, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console(stderr=True).print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one place that catches everything
        path = crash_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc(), encoding="utf-8")
        console(stderr=True).print(
            f"unexpected error: {exc!r}; details written to {path}", highlight=False
        )
        sys.exit(3)
