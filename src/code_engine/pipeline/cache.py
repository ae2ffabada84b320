"""The content cache: a step's result and output files under the hash of what it read.

Rules: an entry is written to a private directory and renamed into place (a reader sees a
whole entry or none); one lock per key makes a second run wait for the first and replay
its result; an entry whose record or files do not match their hashes is discarded.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from code_engine.pipeline.files import file_sha256

FORMAT = 1
STALE_TMP_SECONDS = 3600


@dataclass(frozen=True)
class Entry:
    """A cached, passed step: its output (shown again on replay) and its files."""

    key: str
    exit_code: int
    output: str
    duration_s: float
    files: dict[str, str]  # relative path -> sha256


class CorruptEntryError(Exception):
    """A cache entry that cannot be trusted; the reason says what is wrong with it."""


def step_key(parts: dict[str, object]) -> str:
    """The cache key of a step: sha256 over its command, inputs, tools and configuration."""
    blob = json.dumps({"format": FORMAT, **parts}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class ContentCache:
    """Entries in `root/entries/<key>`, with locks in `root/locks`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _entry_dir(self, key: str) -> Path:
        return self.root / "entries" / key[:2] / key

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold the key's lock: a concurrent run of the same step waits, then replays."""
        locks = self.root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with (locks / f"{key}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def load(self, key: str) -> Entry | None:
        """The entry of `key`; None when absent. CorruptEntryError when it cannot be trusted."""
        directory = self._entry_dir(key)
        record = directory / "result.json"
        if not directory.is_dir():
            return None
        try:
            raw = record.read_bytes()
            data = json.loads(raw)
            body = data["body"]
            if data["sha256"] != _digest(body) or body["key"] != key:
                raise CorruptEntryError("its record does not match its checksum")
            entry = Entry(
                key=key,
                exit_code=int(body["exit_code"]),
                output=str(body["output"]),
                duration_s=float(body["duration_s"]),
                files={str(k): str(v) for k, v in body["files"].items()},
            )
        except CorruptEntryError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorruptEntryError(f"its record is unreadable ({exc})") from None
        for index, (path, digest) in enumerate(sorted(entry.files.items())):
            stored = directory / "files" / str(index)
            if not stored.is_file() or file_sha256(stored) != digest:
                raise CorruptEntryError(f"its copy of {path} is missing or changed")
        return entry

    def discard(self, key: str) -> None:
        """Remove an entry: renamed aside first, so no reader sees half of it."""
        directory = self._entry_dir(key)
        trash = self.root / "tmp" / f"discard-{uuid.uuid4().hex}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        try:
            directory.rename(trash)
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def store(self, repo: Path, entry: Entry) -> None:
        """Write the entry, with copies of its files taken from `repo`, all or nothing."""
        tmp_root = self.root / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        _sweep(tmp_root)
        tmp = tmp_root / f"{entry.key}.{os.getpid()}.{uuid.uuid4().hex}"
        (tmp / "files").mkdir(parents=True)
        try:
            for index, path in enumerate(sorted(entry.files)):
                shutil.copy2(repo / path, tmp / "files" / str(index))
            body = {
                "key": entry.key,
                "exit_code": entry.exit_code,
                "output": entry.output,
                "duration_s": entry.duration_s,
                "files": entry.files,
            }
            record = json.dumps({"sha256": _digest(body), "body": body})
            with (tmp / "result.json").open("w", encoding="utf-8") as handle:
                handle.write(record)
                handle.flush()
                os.fsync(handle.fileno())
            final = self._entry_dir(entry.key)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():  # a corrupt or older copy of the same key
                self.discard(entry.key)
            tmp.rename(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def restore(self, repo: Path, entry: Entry) -> None:
        """Put the entry's files back into the work tree, each replaced atomically."""
        directory = self._entry_dir(entry.key)
        for index, path in enumerate(sorted(entry.files)):
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            shutil.copy2(directory / "files" / str(index), tmp)
            tmp.replace(target)


def _digest(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _sweep(tmp_root: Path) -> None:
    """Remove what a killed run left half-written long ago."""
    cutoff = time.time() - STALE_TMP_SECONDS
    for leftover in tmp_root.iterdir():
        try:
            if leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue
