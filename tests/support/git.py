"""Real git in the tests: one way to run it, as a fixed test identity."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@example.test")


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """`git -C repo args...` as the test identity; its stripped output, or CalledProcessError."""
    result = subprocess.run(
        ["git", *IDENTITY, "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env=None if env is None else dict(env),
    )
    return result.stdout.strip()
