"""Teardown for tests that run the local target: `codectl down` on the test's data directory.

Routers and instances run in sessions of their own and outlive the worker on purpose, so a
test that started them stops them the way a user does, and checks nothing was left.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def codectl_down(data_dir: Path, grace: float = 5.0) -> None:
    """Run `codectl down` against `data_dir` (its instances and routers)."""
    subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "code_engine", "down", "--grace", str(grace), "-o", "json"],
        env={**os.environ, "CODE_DATA_DIR": str(data_dir)},
        capture_output=True,
        timeout=60 + 4 * grace,
        check=True,
    )


def processes_of(data_dir: Path) -> list[str]:
    """Command lines of running processes that name a path inside `data_dir`."""
    needle = str(data_dir)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        line = raw.replace(b"\0", b" ").decode(errors="replace")
        if needle in line and state != "Z":
            found.append(f"{entry.name}: {line.strip()}")
    return found
