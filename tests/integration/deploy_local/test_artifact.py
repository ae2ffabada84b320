from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.support.git import git

from code_engine.deploy.local import build_release
from code_engine.deploy.local.artifact import MARKER, read_marker, release_path
from code_engine.errors import ConflictError

_git = git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("VERSION = 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "feat: first")
    return repo


def test_snapshot_with_its_own_interpreter_is_built_once(repo: Path, data_dir: Path) -> None:
    sha = _git(repo, "rev-parse", "HEAD")
    (repo / "app.py").write_text("VERSION = 'uncommitted'\n")  # never part of a release
    artifact = build_release(repo, "HEAD", "1.0.0", service="hello", data_dir=data_dir)
    assert artifact.sha == sha
    assert artifact.path == release_path(data_dir, "hello", "1.0.0")
    assert (artifact.path / "app.py").read_text() == "VERSION = 1\n"
    assert read_marker(artifact.path) is not None
    out = subprocess.run(
        [str(artifact.python), "-c", "import sys, app; print(sys.prefix, app.VERSION)"],
        cwd=artifact.path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    prefix, version = out.split()
    assert Path(prefix).resolve() == (artifact.path / ".venv").resolve()
    assert version == "1"

    calls: list[list[str]] = []

    def recording_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        calls.append(argv)
        return subprocess.run(argv, **kwargs)  # noqa: PLW1510

    again = build_release(
        repo, sha[:10], "1.0.0", service="hello", data_dir=data_dir, run=recording_run
    )
    assert again == artifact
    assert [argv[3] for argv in calls] == ["rev-parse"], "reused: only the sha was resolved"


def test_a_version_is_immutable(repo: Path, data_dir: Path) -> None:
    build_release(repo, "HEAD", "1.0.0", service="hello", data_dir=data_dir)
    (repo / "app.py").write_text("VERSION = 2\n")
    _git(repo, "commit", "-qam", "fix: second")
    with pytest.raises(ConflictError, match="versions are immutable"):
        build_release(repo, "HEAD", "1.0.0", service="hello", data_dir=data_dir)
    second = build_release(repo, "HEAD", "1.0.1", service="hello", data_dir=data_dir)
    assert (second.path / "app.py").read_text() == "VERSION = 2\n"


def test_a_failed_build_leaves_no_release_and_is_cleaned_by_the_next(
    repo: Path, data_dir: Path
) -> None:
    (repo / "requirements.txt").write_text("# nothing yet\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "build: requirements")

    def failing_pip(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        if "pip" in argv:
            return subprocess.CompletedProcess(argv, 1, b"", b"no network")
        if "venv" in argv:
            argv = [*argv[:3], "--without-pip", *argv[3:]]  # keep the test fast
        return subprocess.run(argv, **kwargs)  # noqa: PLW1510

    with pytest.raises(Exception, match="no network"):
        build_release(repo, "HEAD", "1.0.0", service="hello", data_dir=data_dir, run=failing_pip)
    link = release_path(data_dir, "hello", "1.0.0")
    assert not link.exists()
    # a crashed build (killed before its symlink) leaves a directory without marker
    leftover = link.parent / ".1.0.0.0123456789ab.deadbeef"
    leftover.mkdir()

    def no_pip(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        if "pip" in argv:
            return subprocess.CompletedProcess(argv, 0, b"", b"")
        return failing_pip(argv, **kwargs)

    artifact = build_release(repo, "HEAD", "1.0.0", service="hello", data_dir=data_dir, run=no_pip)
    assert (artifact.path / MARKER).exists()
    assert not leftover.exists()
    assert artifact.path.is_symlink()
