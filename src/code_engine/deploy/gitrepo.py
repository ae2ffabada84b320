"""The service's git repository as the deploy capability reads it: commits, files, ranges."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess  # noqa: S404 - git runs with fixed argument lists, never a shell
import tarfile
from pathlib import Path
from typing import Protocol

from code_engine.errors import UserError
from code_engine.spec import SPEC_FILENAME, ServiceSpec, load_spec_text

COMMIT_CAP = 1000  # commits recorded for a first deployment (all ancestors, up to this)


class GitError(UserError):
    """git failed on the service repository (a path or URL the user can fix)."""


class UnknownRevisionError(GitError):
    """The revision does not name a commit of the repository."""


class Repository(Protocol):
    """What the deploy capability needs from a service's repository."""

    @property
    def path(self) -> Path:
        """The working directory of the service (where `code.yaml` lives)."""

    def resolve(self, revision: str) -> str:
        """The full sha of `revision`; UnknownRevisionError if there is none."""

    def read(self, sha: str, name: str) -> str | None:
        """The text of file `name` (relative to the service directory) at `sha`, if any."""

    def commits(self, old: str | None, new: str, cap: int = COMMIT_CAP) -> list[str]:
        """Shas in `new` but not in `old` (all ancestors when None), newest first, at most
        `cap`; only commits touching the service directory count."""

    def export(self, sha: str, dest: Path) -> None:
        """Write the service directory's files as of `sha` into the directory `dest`."""

    def files(self, sha: str, name: str) -> list[str]:
        """Paths of the files at or under `name` (relative to the service directory) at `sha`."""


class GitRepository:
    """A local clone (or a directory inside one) read with the git command line."""

    def __init__(self, path: Path, *, bare: bool = False) -> None:
        self._path = path
        self._bare = bare  # a mirror: no working tree, paths are from the root

    @property
    def path(self) -> Path:
        return self._path

    def _git(self, *args: str) -> str:
        executable = shutil.which("git")
        if executable is None:
            raise GitError("git is not installed")
        if not self._path.is_dir():
            raise UserError(f"service repository {self._path} does not exist")
        result = subprocess.run(  # noqa: S603 - fixed argv
            [executable, "-C", str(self._path), *args], capture_output=True, check=False
        )
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip()
            raise GitError(f"git {args[0]} failed in {self._path}: {message}")
        return result.stdout.decode(errors="replace")

    def resolve(self, revision: str) -> str:
        try:
            return self._git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
        except GitError:
            raise UnknownRevisionError(f"{revision!r} is not a commit of {self._path}") from None

    def read(self, sha: str, name: str) -> str | None:
        try:
            return self._git("show", f"{sha}:{name}" if self._bare else f"{sha}:./{name}")
        except GitError:
            return None

    def files(self, sha: str, name: str) -> list[str]:
        try:
            listing = self._git("ls-tree", "-r", "--name-only", sha, "--", name or ".")
        except GitError:
            return []
        return listing.split("\n")[:-1] if listing else []

    def commits(self, old: str | None, new: str, cap: int = COMMIT_CAP) -> list[str]:
        span = new if old is None else f"{old}..{new}"
        paths = () if self._bare else ("--", ".")
        return self._git("rev-list", f"--max-count={cap}", span, *paths).split()

    def export(self, sha: str, dest: Path) -> None:
        executable = shutil.which("git")
        if executable is None:
            raise GitError("git is not installed")
        tree = f"{sha}:" if self._bare else f"{sha}:./"
        result = subprocess.run(  # noqa: S603 - fixed argv
            [executable, "-C", str(self._path), "archive", "--format=tar", tree],
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip()
            raise GitError(f"git archive failed in {self._path}: {message}")
        with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
            archive.extractall(dest, filter="data")


def is_remote(repo: str) -> bool:
    return "://" in repo or repo.startswith("git@")


def open_repository(repo: str, data_dir: Path) -> GitRepository:
    """A local path as it is; a URL is mirrored under the data directory and fetched."""
    if not is_remote(repo):
        return GitRepository(Path(repo).expanduser())
    digest = hashlib.sha256(repo.encode()).hexdigest()[:16]
    mirror = data_dir / "repos" / f"{digest}.git"
    executable = shutil.which("git") or "git"
    if not mirror.is_dir():
        mirror.parent.mkdir(parents=True, exist_ok=True)
        argv = [executable, "clone", "--quiet", "--mirror", repo, str(mirror)]
    else:
        argv = [executable, "-C", str(mirror), "fetch", "--quiet", "--prune", "origin"]
    result = subprocess.run(argv, capture_output=True, check=False)  # noqa: S603
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise GitError(f"cannot fetch {repo}: {message}")
    return GitRepository(mirror, bare=True)


def spec_at(repo: Repository, sha: str) -> ServiceSpec:
    """The service spec as committed at `sha`: configuration travels with the release."""
    text = repo.read(sha, SPEC_FILENAME)
    if text is None:
        raise UserError(f"{repo.path}: no {SPEC_FILENAME} at commit {sha[:12]}")
    return load_spec_text(text, f"{SPEC_FILENAME}@{sha[:12]}")
