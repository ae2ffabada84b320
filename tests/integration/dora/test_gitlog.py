"""`read_commits` and `commits_between` against real git repositories built per test."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from code_engine.dora.gitlog import GitError, NotARepositoryError, commits_between, read_commits

UTC = timezone.utc


class Repo:
    """A git repository in a temporary directory with fixed author/committer dates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "Mara Ops",
            "GIT_AUTHOR_EMAIL": "mara@acme-shop.example",
            "GIT_COMMITTER_NAME": "Mara Ops",
            "GIT_COMMITTER_EMAIL": "mara@acme-shop.example",
        }
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, date: str | None = None) -> str:
        env = dict(self.env)
        if date is not None:
            env["GIT_AUTHOR_DATE"] = date
            env["GIT_COMMITTER_DATE"] = date
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def commit(self, message: str, date: str) -> str:
        name = message.split(": ")[-1] + ".txt"
        (self.path / name).write_text(message + "\n")
        self.git("add", name)
        self.git("commit", "-q", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, date: str) -> str:
        self.git("merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch, date=date)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    path = tmp_path / "checkout-api"
    path.mkdir()
    return Repo(path)


def build_history(repo: Repo) -> dict[str, str]:
    shas = {"a": repo.commit("feat: a", "2024-06-01T10:00:00+02:00")}
    shas["b"] = repo.commit("feat: b", "2024-06-01T12:00:00Z")
    repo.git("checkout", "-q", "-b", "feature")
    shas["f1"] = repo.commit("feat: f1", "2024-06-02T09:00:00-05:00")  # 14:00Z
    shas["f2"] = repo.commit("feat: f2", "2024-06-03T08:00:00Z")
    repo.git("checkout", "-q", "main")
    shas["c"] = repo.commit("fix: c", "2024-06-02T12:00:00Z")
    shas["m1"] = repo.merge("feature", "2024-06-04T10:00:00Z")
    # a branch that takes main back in before it is merged (a criss-cross)
    repo.git("checkout", "-q", "-b", "feature2")
    shas["g1"] = repo.commit("feat: g1", "2024-06-05T09:00:00Z")
    repo.git("checkout", "-q", "main")
    shas["d"] = repo.commit("fix: d", "2024-06-05T11:00:00Z")
    repo.git("checkout", "-q", "feature2")
    shas["bm"] = repo.merge("main", "2024-06-05T12:00:00Z")
    repo.git("checkout", "-q", "main")
    shas["m2"] = repo.merge("feature2", "2024-06-06T10:00:00Z")
    return shas


def expected_first_commit(repo: Repo, merge: str) -> datetime:
    """git's own answer: the earliest author time in `merge^1..merge`, merge excluded."""
    listed = repo.git("log", "--format=%H %aI", f"{merge}^1..{merge}").splitlines()
    times = [
        datetime.fromisoformat(line.split()[1]) for line in listed if not line.startswith(merge)
    ]
    return min(times).astimezone(UTC)


def test_reads_every_commit_with_utc_times(repo: Repo) -> None:
    shas = build_history(repo)
    commits = {c.sha: c for c in read_commits(repo.path)}
    assert set(commits) == set(shas.values())
    a = commits[shas["a"]]
    assert a.service == "checkout-api"
    assert a.authored_at == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert a.committed_at == a.authored_at
    assert a.message == "feat: a"
    assert a.first_commit_at is None


def test_merges_carry_the_first_commit_time_of_their_change(repo: Repo) -> None:
    shas = build_history(repo)
    commits = {c.sha: c for c in read_commits(repo.path, service="checkout")}
    m1, m2, bm = commits[shas["m1"]], commits[shas["m2"]], commits[shas["bm"]]
    assert m1.first_commit_at == datetime(2024, 6, 2, 14, 0, tzinfo=UTC)  # f1
    assert m2.first_commit_at == datetime(2024, 6, 5, 9, 0, tzinfo=UTC)  # g1, not d
    assert bm.first_commit_at == datetime(2024, 6, 5, 11, 0, tzinfo=UTC)  # d
    for name in ("m1", "m2", "bm"):
        assert commits[shas[name]].first_commit_at == expected_first_commit(repo, shas[name])
    assert m1.service == "checkout"


def test_since_limits_the_history(repo: Repo) -> None:
    shas = build_history(repo)
    recent = {c.sha for c in read_commits(repo.path, since=datetime(2024, 6, 5, tzinfo=UTC))}
    assert recent == {shas["g1"], shas["d"], shas["bm"], shas["m2"]}


def test_commits_between_deployed_revisions(repo: Repo) -> None:
    shas = build_history(repo)
    delivered = commits_between(repo.path, shas["m1"], shas["m2"])
    assert set(delivered) == {shas["g1"], shas["d"], shas["bm"], shas["m2"]}
    assert delivered[0] == shas["m2"]
    assert set(commits_between(repo.path, None, shas["b"])) == {shas["a"], shas["b"]}


def test_empty_repository_has_no_commits(repo: Repo) -> None:
    assert read_commits(repo.path) == []


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotARepositoryError, match="not a git repository"):
        read_commits(plain)
    with pytest.raises(NotARepositoryError, match="no such directory"):
        read_commits(tmp_path / "missing")


def test_unknown_revision_is_a_git_error(repo: Repo) -> None:
    build_history(repo)
    with pytest.raises(GitError, match="git rev-list failed"):
        commits_between(repo.path, "nope", "main")


def test_unknown_rev_to_read_is_a_git_error(repo: Repo) -> None:
    build_history(repo)
    with pytest.raises(GitError, match="git log failed"):
        read_commits(repo.path, rev="no-such-branch")
