"""Release snapshots of the local target: the source at one commit plus its virtualenv.

`<data_dir>/releases/<service>/<version>` is a symlink to a hidden sibling directory
that is built completely (source from `git archive`, `.venv`, marker file) before the
symlink appears in one atomic rename. A crash leaves at most an unreferenced build
directory, removed by the next build; a release is never half-built. Virtualenvs are
not relocatable, which is why the built directory never moves.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from code_engine.deploy.local.logfiles import safe_name
from code_engine.errors import CodeError, ConflictError

MARKER = ".code-release.json"
Run = Callable[..., "subprocess.CompletedProcess[bytes]"]


class ArtifactError(CodeError):
    """A release snapshot could not be built (git, venv or pip failed)."""


@dataclass(frozen=True)
class ReleaseArtifact:
    """A built release: run its commands from `path` with `python`."""

    service: str
    version: str
    sha: str
    path: Path
    python: Path


def release_path(data_dir: Path, service: str, version: str) -> Path:
    return data_dir / "releases" / safe_name(service) / safe_name(version)


def build_release(
    repo: Path,
    sha: str,
    version: str,
    *,
    service: str,
    data_dir: Path,
    base_python: str = sys.executable,
    pip_args: Sequence[str] = (),
    run: Run = subprocess.run,
    clock: Callable[[], float] = time.time,
) -> ReleaseArtifact:
    """Build (or reuse) the snapshot of `repo` at `sha` as release `version` of `service`.

    Dependencies: `requirements.txt` if present, else the project itself if it has a
    `pyproject.toml`, else none (no pip run, nothing downloaded). Pass `pip_args` such as
    `--no-index --find-links wheels/` to install offline; PIP_* variables are honoured.
    """
    full_sha = _git(run, repo, "rev-parse", "--verify", f"{sha}^{{commit}}").strip()
    link = release_path(data_dir, service, version)
    link.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(link):  # one build per version at a time, across processes
        existing = read_marker(link)
        if existing is not None:
            if existing.get("sha") != full_sha:
                raise ConflictError(
                    f"release {service} {version} already exists from commit "
                    f"{str(existing.get('sha'))[:12]}, not {full_sha[:12]}: versions are immutable"
                )
            return _artifact(service, version, full_sha, link)
        _remove_stale_builds(link)
        build = link.parent / f".{link.name}.{full_sha[:12]}.{uuid.uuid4().hex[:8]}"
        try:
            _extract(run, repo, full_sha, build)
            _make_venv(run, build, base_python, pip_args)
            marker = {"service": service, "version": version, "sha": full_sha, "built_at": clock()}
            (build / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
            _publish(build, link)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return _artifact(service, version, full_sha, link)


def read_marker(path: Path) -> dict[str, object] | None:
    """The marker of a complete release at `path`, or None."""
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _artifact(service: str, version: str, sha: str, link: Path) -> ReleaseArtifact:
    return ReleaseArtifact(service, version, sha, link, link / ".venv" / "bin" / "python")


def _git(run: Run, repo: Path, *args: str) -> str:
    result = run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise ArtifactError(f"git {' '.join(args)} failed in {repo}: {message}")
    return result.stdout.decode()


def _extract(run: Run, repo: Path, sha: str, target: Path) -> None:
    target.mkdir(parents=True)
    archive = target / ".source.tar"
    try:
        _git(run, repo, "archive", "--format=tar", f"--output={archive}", sha)
        result = run(["tar", "-xf", str(archive), "-C", str(target)], capture_output=True)
        if result.returncode != 0:
            raise ArtifactError(f"cannot unpack {sha[:12]}: {result.stderr.decode().strip()}")
    finally:
        archive.unlink(missing_ok=True)


def _make_venv(run: Run, build: Path, base_python: str, pip_args: Sequence[str]) -> None:
    venv = build / ".venv"
    if (build / "requirements.txt").is_file():
        install = ["-r", str(build / "requirements.txt")]
    elif (build / "pyproject.toml").is_file():
        install = [str(build)]
    else:
        install = []
    venv_args = [base_python, "-m", "venv", str(venv)]
    if not install:
        venv_args.insert(3, "--without-pip")  # nothing to install: fast and offline
    _checked(run, venv_args, "create the virtualenv")
    if install:
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
        _checked(run, [*pip, "--no-input", *pip_args, *install], "install the dependencies")


def _checked(run: Run, argv: list[str], what: str) -> None:
    result = run(argv, capture_output=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        raise ArtifactError(f"cannot {what}: {' '.join(argv)}\n{output[-3000:]}")


def _publish(build: Path, link: Path) -> None:
    """Point `link` at `build` atomically (rename of a fresh symlink over it)."""
    tmp_link = link.with_name(f".{link.name}.link.{uuid.uuid4().hex[:8]}")
    tmp_link.symlink_to(build.name)
    tmp_link.replace(link)


def _remove_stale_builds(link: Path) -> None:
    """Remove leftovers of crashed builds of this version (called under the build lock)."""
    pattern = re.compile(re.escape(f".{link.name}.") + r"([0-9a-f]{12}\.|link\.)[0-9a-f]{8}")
    for candidate in link.parent.iterdir():
        if pattern.fullmatch(candidate.name):
            if candidate.is_symlink():
                candidate.unlink()
            else:
                shutil.rmtree(candidate, ignore_errors=True)


@contextlib.contextmanager
def _build_lock(link: Path) -> Iterator[None]:
    with link.with_name(f".{link.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
