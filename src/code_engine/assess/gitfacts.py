"""Facts from git: the files of the work tree and the recent history, from few git calls."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from code_engine.errors import UserError

RECENT_COMMITS = 100
CONVENTIONAL_TYPES = (
    "build",
    "chore",
    "ci",
    "docs",
    "feat",
    "fix",
    "perf",
    "refactor",
    "revert",
    "style",
    "test",
)
_CONVENTIONAL = re.compile(rf"^(?:{'|'.join(CONVENTIONAL_TYPES)})(?:\([^()\n]+\))?!?: \S")
_SEMVER_TAG = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class Commit:
    """One commit of the recent history."""

    sha: str
    subject: str
    committed_at: datetime
    signed: bool
    merge: bool

    @property
    def conventional(self) -> bool:
        return bool(_CONVENTIONAL.match(self.subject))


@dataclass(frozen=True)
class GitFacts:
    """HEAD, the most recent commits (newest first) and the tags."""

    head: str | None
    commits: tuple[Commit, ...]
    tags: tuple[str, ...]
    shallow: bool = False  # a shallow clone: the history is cut, history checks are unknown
    origin: str | None = None  # the URL of the `origin` remote

    @property
    def semver_tags(self) -> tuple[str, ...]:
        return tuple(t for t in self.tags if _SEMVER_TAG.match(t))


def git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run git in `root`; a missing git binary is the user's to fix."""
    try:
        return subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-c", "core.quotepath=off", *args],  # noqa: S607 - git from PATH by design
            cwd=root,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise UserError("git is not installed or not on PATH") from exc


def require_work_tree(root: Path) -> None:
    """Raise a `UserError` unless `root` is a directory inside a git work tree."""
    if not root.exists():
        raise UserError(f"{root}: no such directory")
    if not root.is_dir():
        raise UserError(f"{root}: not a directory")
    done = git(root, "rev-parse", "--is-inside-work-tree")
    if done.returncode != 0 or done.stdout.strip() != b"true":
        raise UserError(f"{root}: not a git repository (or any of its parent directories)")


def list_files(root: Path) -> tuple[str, ...]:
    """Tracked and untracked-but-not-ignored files under `root`, minus deleted ones."""
    # one call: -t tags each name (H tracked, R deleted, ? untracked)
    args = ("ls-files", "-z", "-t", "--cached", "--deleted", "--others", "--exclude-standard")
    listed = git(root, *args)
    if listed.returncode != 0:
        raise UserError(f"{root}: git ls-files failed: {listed.stderr.decode(errors='replace')}")
    present: set[str] = set()
    gone: set[str] = set()
    for entry in listed.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if len(entry) > 2:
            (gone if entry[0] == "R" else present).add(entry[2:])
    return tuple(sorted(present - gone))


def read_facts(root: Path, limit: int = RECENT_COMMITS) -> GitFacts:
    """One `git log` for the recent commits (raw, to see signatures without verifying them)."""
    log = git(root, "log", f"-n{limit}", "--pretty=raw", "--no-color", "--", ".")
    commits = _parse_raw_log(log.stdout.decode("utf-8", "replace")) if log.returncode == 0 else ()
    listed = git(root, "for-each-ref", "--format=%(refname:short)", "refs/tags")
    tags = tuple(listed.stdout.decode("utf-8", "replace").split()) if listed.returncode == 0 else ()
    head = git(root, "rev-parse", "--verify", "-q", "HEAD")
    sha = head.stdout.decode().strip() if head.returncode == 0 else None
    shallow = git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == b"true"
    remote = git(root, "config", "--get", "remote.origin.url")
    origin = remote.stdout.decode("utf-8", "replace").strip() if remote.returncode == 0 else ""
    return GitFacts(sha or None, commits, tags, shallow, origin or None)


def _parse_raw_log(text: str) -> tuple[Commit, ...]:
    commits: list[Commit] = []
    for block in re.split(r"^commit ", text, flags=re.MULTILINE):
        if not block.strip():
            continue
        header, _, body = block.partition("\n\n")
        lines = header.splitlines()
        sha = lines[0].split()[0]
        parents = sum(1 for line in lines if line.startswith("parent "))
        signed = any(line.startswith("gpgsig") for line in lines)
        committed = next((line for line in lines if line.startswith("committer ")), "")
        stamp = re.search(r" (\d+) [+-]\d{4}$", committed)
        when = datetime.fromtimestamp(int(stamp.group(1)) if stamp else 0, tz=timezone.utc)
        subject = next((line.strip() for line in body.splitlines() if line.strip()), "")
        commits.append(Commit(sha, subject, when, signed, parents > 1))
    return tuple(commits)
