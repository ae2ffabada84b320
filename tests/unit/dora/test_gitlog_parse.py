"""Parsing `git log` output and the merge walk, without a repository."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from code_engine.dora import gitlog
from code_engine.dora.gitlog import GitError, first_commit_times, parse_log

T0 = datetime(2024, 6, 1, tzinfo=timezone.utc)


def record(sha: str, parents: str, hours: int, message: str = "m") -> str:
    stamp = (T0 + timedelta(hours=hours)).isoformat()
    return "\0".join([sha, parents, stamp, stamp, message])


def test_parse_log_reads_fields() -> None:
    output = "\0".join([record("b", "a", 2, "second\n\nbody\n"), record("a", "", 1)]) + "\n"
    second, first = parse_log(output)
    assert (second.sha, second.parents, second.message) == ("b", ("a",), "second\n\nbody")
    assert first.parents == ()
    assert first.authored_at == T0 + timedelta(hours=1)


def test_parse_log_of_nothing() -> None:
    assert parse_log("") == []
    assert parse_log("\n") == []


def test_parse_log_rejects_a_truncated_record() -> None:
    with pytest.raises(GitError, match="unexpected git log output"):
        parse_log("abc\0def")


def test_merge_walk_on_a_criss_cross_graph() -> None:
    # a - b - c ------ m1 - m2        main
    #      \          /    /
    #       x1 - x2 -'    /           feature (x1 is the oldest change)
    #         \          /
    #          y1 ------'             hotfix off x1, merged after m1
    log = "\0".join(
        [
            record("m2", "m1 y1", 20),
            record("m1", "c x2", 10),
            record("y1", "x1", 9),
            record("x2", "x1", 4),
            record("c", "b", 5),
            record("x1", "b", 3),
            record("b", "a", 1),
            record("a", "", 0),
        ]
    )
    times = first_commit_times(parse_log(log))
    assert times == {"m1": T0 + timedelta(hours=3), "m2": T0 + timedelta(hours=9)}


def test_merge_walk_visits_a_side_diamond_once() -> None:
    # main: a - m;  side: a - s1 - (s2a, s2b) - sm, merged by m; s2b has an older date
    log = "\0".join(
        [
            record("m", "a sm", 30),
            record("sm", "s2a s2b", 20),
            record("s2b", "s1", 5),
            record("s2a", "s1", 12),
            record("s1", "a", 8),
            record("a", "", 0),
        ]
    )
    times = first_commit_times(parse_log(log))
    assert times["m"] == T0 + timedelta(hours=5)
    assert times["sm"] == T0 + timedelta(hours=5)


def test_merge_of_an_already_merged_branch_brings_nothing() -> None:
    log = "\0".join([record("m", "b a", 5), record("b", "a", 2), record("a", "", 0)])
    assert first_commit_times(parse_log(log)) == {}


def test_missing_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(gitlog.shutil, "which", lambda _: None)
    with pytest.raises(GitError, match="git is not installed"):
        gitlog.read_commits(tmp_path)
