"""Where a step's tools are, and what version each is (the part of a cache key they own)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def search_path(repo: Path) -> str:
    """The repository's virtualenv, then this interpreter's, then `PATH`."""
    own = str(Path(sys.executable).parent)
    parts = [str(repo / ".venv" / "bin"), own, os.environ.get("PATH", "")]
    return os.pathsep.join(part for part in parts if part)


def resolve(tool: str, repo: Path) -> str | None:
    """The absolute path of `tool`, or None when it is nowhere on the search path."""
    if os.sep in tool:
        path = (repo / tool).resolve()
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(tool, path=search_path(repo))


class ToolVersions:
    """Tool versions, asked once per executable and remembered while the file is unchanged.

    A new version of a tool rewrites its executable (pip rewrites console scripts), so the
    file's size and modification time decide when to ask `--version` again.
    """

    def __init__(self, memo_file: Path) -> None:
        self._file = memo_file
        try:
            loaded = json.loads(memo_file.read_text(encoding="utf-8"))
            self._memo: dict[str, str] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self._memo = {}
        self._dirty = False

    def fingerprint(self, tool: str, repo: Path) -> str:
        """A string that changes when the tool (or a fingerprinted directory) changes."""
        if tool.startswith("dir:"):
            return _directory_fingerprint(Path(tool[4:]))
        path = resolve(tool, repo)
        if path is None:
            return f"{tool}: missing"
        stat = Path(path).stat()
        memo_key = f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
        if memo_key not in self._memo:
            self._memo[memo_key] = _ask_version(path)
            self._dirty = True
        return f"{path}={self._memo[memo_key]}"

    def save(self) -> None:
        if not self._dirty:
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_name(f"{self._file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._memo), encoding="utf-8")
        tmp.replace(self._file)


def _ask_version(path: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - a resolved tool asked its version
            [path, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({exc})"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else f"unknown (exit {done.returncode})"


def _directory_fingerprint(directory: Path) -> str:
    """A directory's files by name, size and time, two levels deep (a database export)."""
    digest = hashlib.sha256(str(directory).encode())
    try:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            stat = entry.stat()
            digest.update(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
            if entry.is_dir():
                for child in sorted(os.scandir(entry.path), key=lambda e: e.name):
                    child_stat = child.stat()
                    digest.update(f"{child.name}:{child_stat.st_mtime_ns}\n".encode())
    except OSError as exc:
        return f"{directory}: unreadable ({exc.strerror})"
    return f"{directory}={digest.hexdigest()}"
