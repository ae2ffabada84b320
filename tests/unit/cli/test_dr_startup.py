"""`codectl dr` loads only its own command group: a backup does not pay for the whole CLI."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from code_engine.cli.main import run
try:
    run(["dr", "--help"])
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = [m for m in ("code_engine.deploy", "code_engine.auth.passwords", "alembic", "fastapi")
         if m in sys.modules]
print("heavy=" + ",".join(heavy))
"""


def test_dr_commands_do_not_import_the_rest_of_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert "dr" in done.stdout  # the group's help was printed
    assert done.stdout.strip().splitlines()[-1] == "heavy="  # none of the heavy modules


def test_other_commands_still_see_every_group() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "code_engine", "--help"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "dr" in done.stdout and "deploy" in done.stdout
