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

    if not _registered:
        commands.register(app)
        _registered.append(True)


_groups: dict[str, typer.Typer] = {}


def _app_for(argv: list[str]) -> typer.Typer:
    """`codectl dr ...` loads only its own group: a backup does not pay for the whole CLI."""
    if argv[:1] != ["dr"]:
        _register()
        return app
    if "dr" not in _groups:
        from code_engine.cli import dr_cmd

        small = typer.Typer(
            name="codectl", no_args_is_help=True, pretty_exceptions_enable=False,
            rich_markup_mode=None,
        )  # fmt: skip
        small.callback()(main)
        dr_cmd.register(small)
        _groups["dr"] = small
    return _groups["dr"]


def crash_log_path() -> Path:
    return Path.home() / ".cache" / "code-engine" / "crash.log"


def run(argv: list[str] | None = None) -> None:
    """Entry point: maps CODE errors to exit codes, logs anything unexpected for a bug report."""
    args = sys.argv[1:] if argv is None else argv
    try:
        _app_for(args)(args=args, prog_name="codectl")
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
