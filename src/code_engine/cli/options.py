"""Options that several command groups take, each defined once."""

from __future__ import annotations

import typer

# Without it (and without CODE_SERVER) a command talks to the server of `codectl login`.
SERVER = typer.Option(None, "--server", envvar="CODE_SERVER", help="CODE server URL.")
