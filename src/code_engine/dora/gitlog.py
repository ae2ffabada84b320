"""Commits from a git repository (`codectl dora import-git PATH`).

One `git log` reads every commit with its parents; the first-commit time of each merge —
the earliest author time among the commits the merge brought in (`git log M^1..M`,
without M itself) — is then computed in memory from that graph, walking each merge's
side branch in generation order until it meets the first parent's history, as git's own
merge-base walk does.
"""

from __future__ import annotations

import heapq
import shutil
import subprocess  # noqa: S404 - git is run with a fixed argument list, never a shell
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from code_engine.dora.events import CommitEvent
from code_engine.errors import CodeError, UserError

# NUL-separated fields; `-z` separates the commits with NUL too: 5 fields per commit.
_FORMAT = "%H%x00%P%x00%aI%x00%cI%x00%B"
_FIELDS = 5
_GIT_CONFIG = ("-c", "log.showSignature=false", "-c", "i18n.logOutputEncoding=UTF-8")


class GitError(CodeError):
    """git failed on a repository CODE was asked to read."""


class NotARepositoryError(GitError, UserError):
    """The path is not a git repository (a user error, exit code 2)."""


@dataclass(frozen=True)
class _Commit:
    sha: str
    parents: tuple[str, ...]
    authored_at: datetime
    committed_at: datetime
    message: str


def _git(repo: Path, *args: str) -> str:
    executable = shutil.which("git")
    if executable is None:
        raise GitError("git is not installed (needed to read commits)")
    if not repo.is_dir():
        raise NotARepositoryError(f"{repo}: no such directory")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [executable, *_GIT_CONFIG, "-C", str(repo), *args],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        if "not a git repository" in message:
            raise NotARepositoryError(f"{repo}: not a git repository")
        raise GitError(f"git {args[0]} failed in {repo}: {message}")
    return result.stdout.decode("utf-8", "replace")


def parse_log(output: str) -> list[_Commit]:
    """Parse the output of `git log -z --format=<_FORMAT>`."""
    if not output.strip("\0\n"):
        return []
    parts = output.rstrip("\n").split("\0")
    if parts and parts[-1] == "":
        parts.pop()
    if len(parts) % _FIELDS:
        raise GitError(f"unexpected git log output ({len(parts)} fields)")
    return [
        _Commit(
            sha=parts[i],
            parents=tuple(parts[i + 1].split()),
            authored_at=datetime.fromisoformat(parts[i + 2]),
            committed_at=datetime.fromisoformat(parts[i + 3]),
            message=parts[i + 4].strip(),
        )
        for i in range(0, len(parts), _FIELDS)
    ]


def _generations(commits: list[_Commit]) -> dict[str, int]:
    """1 + the longest path to a root, over the commits read (topological order given)."""
    generation: dict[str, int] = {}
    for commit in reversed(commits):  # `--topo-order`: parents come after their children
        generation[commit.sha] = 1 + max(
            (generation.get(parent, 0) for parent in commit.parents), default=0
        )
    return generation


def _brought_in_earliest(
    merge: _Commit, by_sha: dict[str, _Commit], generation: dict[str, int]
) -> datetime | None:
    """The earliest author time of the commits reachable from the merge's other parents
    but not from its first parent."""
    mainline, side = 1, 2
    flags: dict[str, int] = {}
    queue: list[tuple[int, str]] = []
    side_only = 0  # queued commits reached from the side alone; the walk ends at zero

    def push(sha: str, flag: int) -> None:
        nonlocal side_only
        if sha not in by_sha:
            return
        before = flags.get(sha)
        now = (before or 0) | flag
        if before == now:
            return
        flags[sha] = now
        if before is None:
            heapq.heappush(queue, (-generation[sha], sha))
            side_only += now == side
        elif before == side:
            side_only -= 1

    push(merge.parents[0], mainline)
    for parent in merge.parents[1:]:
        push(parent, side)
    earliest: datetime | None = None
    while queue and side_only:
        _, sha = heapq.heappop(queue)
        flag = flags[sha]
        commit = by_sha[sha]
        if flag == side:
            side_only -= 1
            if earliest is None or commit.authored_at < earliest:
                earliest = commit.authored_at
        for parent in commit.parents:
            push(parent, flag)
    return earliest


def first_commit_times(commits: list[_Commit]) -> dict[str, datetime]:
    """Merge sha → first-commit time of the change it merged (merges bringing nothing in
    are left out)."""
    by_sha = {commit.sha: commit for commit in commits}
    generation = _generations(commits)
    times: dict[str, datetime] = {}
    for commit in commits:
        if len(commit.parents) > 1:
            earliest = _brought_in_earliest(commit, by_sha, generation)
            if earliest is not None:
                times[commit.sha] = earliest
    return times


def read_commits(
    repo_path: str | Path,
    since: datetime | None = None,
    *,
    service: str | None = None,
    rev: str = "HEAD",
) -> list[CommitEvent]:
    """Every commit reachable from `rev` (newest first), as events of `service`.

    `service` defaults to the repository directory's name. With `since`, history before
    that date is not read, so a merge of an older branch gets the earliest time read.
    """
    repo = Path(repo_path).resolve()
    args = ["log", "-z", "--topo-order", "--no-color", f"--format={_FORMAT}"]
    if since is not None:
        args.append(f"--since={since.isoformat()}")
    try:
        raw = parse_log(_git(repo, *args, rev, "--"))
    except GitError:
        if not _git(repo, "rev-list", "-n", "1", "--all").strip():
            return []  # a repository without any commit yet
        raise
    firsts = first_commit_times(raw)
    name = service or repo.name
    return [
        CommitEvent(
            sha=commit.sha,
            service=name,
            authored_at=commit.authored_at,
            committed_at=commit.committed_at,
            message=commit.message,
            first_commit_at=firsts.get(commit.sha),
        )
        for commit in raw
    ]


def commits_between(repo_path: str | Path, old_sha: str | None, new_sha: str) -> list[str]:
    """Shas reachable from `new_sha` but not from `old_sha` (all of them when None),
    newest first: the commits a deployment of `new_sha` delivers after `old_sha`."""
    repo = Path(repo_path).resolve()
    span = new_sha if old_sha is None else f"{old_sha}..{new_sha}"
    return _git(repo, "rev-list", "--topo-order", span, "--").split()
