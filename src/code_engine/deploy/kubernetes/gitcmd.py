"""git for the GitOps working copy: one way to run it, and what a failed push meant."""

from __future__ import annotations

import enum
import os
import shutil
import subprocess  # noqa: S404 - git runs with fixed argument lists, never a shell
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from code_engine.deploy.kubernetes.errors import GitOpsUnreachable
from code_engine.deploy.kubernetes.message import Author

TIMEOUT_SECONDS = 60
# never ask for credentials on a terminal, never read the user's or the system's git config
BASE_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
# what a remote says when a concurrent push updated the ref between its check and its write
REF_RACES = ("failed to update ref", "cannot lock ref", "failed to lock", "incorrect old value")


class PushOutcome(enum.Enum):
    """How a push ended."""

    PUSHED = "pushed"
    BEHIND = "behind"  # non-fast-forward: someone pushed first
    REFUSED = "refused"  # the remote refused the ref (protected branch, hook)
    UNREACHABLE = "unreachable"  # no connection, no permission, read-only remote


@dataclass(frozen=True)
class Result:
    """A finished git command."""

    code: int
    out: str
    err: str


class Git:
    """`git -C <directory>` with a fixed environment and a timeout."""

    def __init__(self, directory: Path, *, executable: str | None = None) -> None:
        self.directory = directory
        found = executable or shutil.which("git")
        if found is None:
            raise GitOpsUnreachable("git is not installed")
        self.executable = found

    def run(self, *args: str, author: Author | None = None, check: bool = True) -> Result:
        """Run git; GitOpsUnreachable (with git's message) when `check` and it fails."""
        env = {**os.environ, **BASE_ENV}
        # ssh remotes: fail instead of asking for a passphrase or a host key on a terminal
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        if author is not None:
            env.update(_identity(author))
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv
                [self.executable, "-C", str(self.directory), *args],
                capture_output=True,
                text=True,
                check=False,
                timeout=TIMEOUT_SECONDS,
                env=env,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitOpsUnreachable(
                f"git {args[0]} did not finish within {TIMEOUT_SECONDS}s"
            ) from exc
        result = Result(done.returncode, done.stdout, done.stderr)
        if check and result.code != 0:
            raise GitOpsUnreachable(f"git {args[0]} failed: {_message(result)}")
        return result

    def push(self, local: str, branch: str) -> tuple[PushOutcome, str]:
        """Push `local` to `refs/heads/<branch>` of origin, never forcing."""
        result = self.run(
            "push", "--porcelain", "origin", f"{local}:refs/heads/{branch}", check=False
        )
        if result.code == 0:
            return PushOutcome.PUSHED, ""
        text = f"{result.out}\n{result.err}"
        if "[rejected]" in text and ("fetch first" in text or "non-fast-forward" in text):
            return PushOutcome.BEHIND, _message(result)
        if "[remote rejected]" in text and any(race in text for race in REF_RACES):
            return PushOutcome.BEHIND, _message(result)  # another push held the ref just now
        if "[remote rejected]" in text and "unpacker error" not in text:
            return PushOutcome.REFUSED, _message(result)
        return PushOutcome.UNREACHABLE, _message(result)


def _identity(author: Author) -> Mapping[str, str]:
    return {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }


def _message(result: Result) -> str:
    lines = [
        line.strip()
        for line in (result.err + "\n" + result.out).splitlines()
        if line.strip() and line.strip() != "Done" and not line.startswith("To ")
    ]
    return "; ".join(lines) or f"exit code {result.code}"
