"""The `codectl` application and its single error boundary."""

from __future__ import annotations

import gc
import sys
import traceback
from pathlib import Path

import typer

from code_engine.cli.commands import Commands, register_all
from code_engine.errors import CodeError

app = typer.Typer(
    name="codectl",
    cls=Commands,
    help="CODE: Continuous Operations & Deployment Engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from code_engine import __version__

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
    """Add every command to `app` now, once: for tools that walk the whole command tree (the
    reference docs and their tests). `codectl` itself loads a command's module when it runs."""
    if not _registered:
        register_all(app)
        _registered.append(True)


def crash_log_path() -> Path:
    return Path.home() / ".cache" / "code-engine" / "crash.log"


def run(argv: list[str] | None = None) -> None:
    """Entry point: maps CODE errors to exit codes, logs anything unexpected for a bug report."""
    try:
        app(args=argv, prog_name="codectl")
    except CodeError as exc:
        from rich.text import Text

        from code_engine.cli.output import console

        message = Text("error:", style="red").append(f" {exc}", style="")
        console(stderr=True).print(message, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        from code_engine.cli.output import console

        console(stderr=True).print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one place that catches everything
        from code_engine.cli.output import console

        path = crash_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc(), encoding="utf-8")
        console(stderr=True).print(
            f"unexpected error: {exc!r}; details written to {path}", highlight=False
        )
        sys.exit(3)


def entry() -> None:
    """The `codectl` process: `run`, then an exit that does not walk every object again.

    The interpreter's last garbage collections at exit traverse everything the imports made
    (typer, pydantic, SQLAlchemy): about 0.08 s of every command. Frozen objects are left to
    the process's end, which frees them all at once; atexit handlers still run.
    """
    try:
        run()
    finally:
        gc.freeze()
