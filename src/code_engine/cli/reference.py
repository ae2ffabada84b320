"""Generate docs/cli.md from the command tree: `python -m code_engine.cli.reference`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import typer

INTRO = """# Command line reference

`codectl` (also `python -m code_engine`). Generated from the commands themselves by
`python -m code_engine.cli.reference > docs/cli.md`; a test fails when this page is out of date.

Exit codes: 0 ok, 1 a check or gate failed, 2 bad input (file, line and field, or the setting,
are named), 3 unexpected (the message says where the details were written), 130 interrupted.
Commands that read the API take `--server` (or `CODE_SERVER`) and use the token stored by
`codectl login` (or `CODE_TOKEN`); most take `--output table|json`.

Shell completion (bash, zsh, fish, PowerShell): `codectl --install-completion` installs it for
the current shell; `codectl --show-completion SHELL` prints the script to install by hand.
"""


# Typer ships its own copy of click, so commands and parameters are recognised by shape.
Command = Any


def _walk(command: Command, path: list[str]) -> Iterator[tuple[list[str], Command]]:
    if hasattr(command, "commands"):
        # through `get_command`, which loads the commands a lazy group has not loaded yet
        context = typer.Context(command)
        for name in sorted(command.list_commands(context)):
            yield from _walk(command.get_command(context, name), [*path, name])
    else:
        yield path, command


def _option_row(param: Any) -> str | None:
    if param.param_type_name != "option" or param.hidden or param.name == "help":
        return None
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    default = param.default
    shown = "" if default in (None, False, "", ()) or callable(default) else f"`{default}`"
    if hasattr(default, "value"):
        shown = f"`{default.value}`"
    help_text = (param.help or "").replace("|", "\\|").replace("\n", " ")
    return f"| {names} | {shown} | {help_text} |"


def _argument(param: Any) -> str:
    """As `--help` shows it: the metavar when the command names one (`FROM`, `[TO]`)."""
    name = param.metavar or (param.name or "").upper()
    return name if param.required or name.startswith("[") else f"[{name}]"


def render(app: typer.Typer) -> str:
    """The Markdown reference of every command of `app`."""
    root = typer.main.get_command(app)
    out = [INTRO]
    for path, command in _walk(root, []):
        arguments = " ".join(
            _argument(p) for p in command.params if p.param_type_name == "argument"
        )
        out.append(f"## `codectl {' '.join(path)}`\n")
        out.append(f"```\ncodectl {' '.join(path)} [OPTIONS] {arguments}".rstrip() + "\n```\n")
        if command.help:
            out.append(command.help.strip() + "\n")
        rows = [row for p in command.params if (row := _option_row(p))]
        if rows:
            out.append("| option | default | meaning |\n|---|---|---|")
            out.extend(rows)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    from code_engine.cli.main import _register, app

    _register()
    sys.stdout.write(render(app))


if __name__ == "__main__":  # pragma: no cover
    main()
