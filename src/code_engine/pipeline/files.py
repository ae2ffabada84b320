"""The repository's files, globs over them, and content hashes that skip unchanged files."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist"}
# what tools leave behind in a work tree: never an input, even where no .gitignore says so
BY_PRODUCT = re.compile(
    r"(?:^|/)(?:__pycache__|\.mypy_cache|\.ruff_cache|\.pytest_cache|\.hypothesis|[^/]*\.egg-info)/"
    r"|(?:^|/)\.coverage(?:\.[^/]*)?\Z|\.py[co]\Z"
)


@lru_cache(maxsize=256)
def glob_pattern(glob: str) -> re.Pattern[str]:
    """A regular expression for a glob over relative paths: `**` crosses directories."""
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matching(files: Iterable[str], globs: Iterable[str]) -> list[str]:
    """The files (relative paths) that match any of the globs, sorted."""
    patterns = [glob_pattern(glob.removeprefix("./")) for glob in globs]
    return sorted(f for f in files if any(p.match(f) for p in patterns))


def repository_files(repo: Path, excluded: Iterable[str] = ()) -> list[str]:
    """Tracked and untracked, not ignored files of a git work tree; else a directory walk."""
    prefixes = tuple(f"{e.rstrip('/')}/" for e in excluded)
    try:
        listed = subprocess.run(  # noqa: S603 - fixed argv
            ["git", "ls-files", "-z", "-co", "--exclude-standard"],  # noqa: S607
            cwd=repo,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8", "surrogateescape")
        files = [f for f in listed.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for root, dirs, names in os.walk(repo):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith("_cache")]
            rel = Path(root).relative_to(repo).as_posix()
            files.extend(name if rel == "." else f"{rel}/{name}" for name in names)
    return [
        f
        for f in files
        if not f.startswith(prefixes) and not BY_PRODUCT.search(f) and (repo / f).is_file()
    ]


class ContentHashes:
    """sha256 of files, remembered by size and modification time between runs."""

    def __init__(self, repo: Path, memo_file: Path) -> None:
        self._repo = repo
        self._file = memo_file
        try:
            loaded = json.loads(memo_file.read_text(encoding="utf-8"))
            self._memo: dict[str, list[object]] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self._memo = {}
        self._dirty = False

    def of(self, relative: str) -> str:
        path = self._repo / relative
        stat = path.stat()
        known = self._memo.get(relative)
        if (
            isinstance(known, list)
            and len(known) == 3
            and known[:2] == [stat.st_size, stat.st_mtime_ns]
        ):
            return str(known[2])  # anything else (a damaged memo included) is hashed again
        digest = file_sha256(path)
        self._memo[relative] = [stat.st_size, stat.st_mtime_ns, digest]
        self._dirty = True
        return digest

    def save(self) -> None:
        if not self._dirty:
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_name(f"{self._file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._memo), encoding="utf-8")
        tmp.replace(self._file)


def existing(repo: Path, globs: Iterable[str]) -> list[str]:
    """The files under `repo` that the globs match now (outputs a step wrote)."""
    found: set[str] = set()
    for glob in globs:
        found.update(p.relative_to(repo).as_posix() for p in repo.glob(glob) if p.is_file())
    return sorted(found)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
