"""Redacting secret values from the log files instances write, without keeping the values.

An instance writes its output straight into its log file, so a service that prints its own
environment writes its secrets there. CODE cannot filter the writes (the instance outlives
the controller), so it filters the reads: beside the logs it keeps, per secret value, its
length and a keyed BLAKE2b digest (a random key per log directory, file mode 0600). A reader
hashes every window of those lengths of a line and masks the windows that match. Values of
earlier rotations stay listed, so old lines stay masked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from code_engine.observe.scrub import MASK, MIN_LENGTH

FILENAME = ".secret-fingerprints.json"
MAX_ENTRIES = 256  # the oldest go first; a rotation every day keeps most of a year
_lock = threading.Lock()


def _digest(key: bytes, value: str) -> str:
    return hashlib.blake2b(value.encode(), key=key, digest_size=16).hexdigest()


def _length(value: str) -> int:
    return len(value.encode())


@dataclass(frozen=True)
class Fingerprints:
    """The digests of the secret values once given to instances logging in one directory."""

    key: bytes
    entries: tuple[tuple[int, str], ...]  # (length in UTF-8 bytes, digest), oldest first

    @classmethod
    def load(cls, directory: Path) -> Fingerprints | None:
        """The fingerprints of `directory`; None when no secret was ever given there."""
        try:
            data = json.loads((directory / FILENAME).read_text())
            key = bytes.fromhex(data["key"])
            entries = tuple((int(n), str(d)) for n, d in data["entries"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(key, entries)

    def redact(self, line: str) -> str:
        """`line` with every window that is a known secret value masked."""
        if not self.entries:
            return line
        data = line.encode()
        digests = {bytes.fromhex(digest) for _, digest in self.entries}
        keyed = hashlib.blake2b(key=self.key, digest_size=16)  # copied: keying costs a block
        found: list[tuple[int, int]] = []
        for length in sorted({n for n, _ in self.entries}, reverse=True):
            start, last = 0, len(data) - length
            while start <= last:
                window = keyed.copy()
                window.update(data[start : start + length])
                if window.digest() in digests:
                    found.append((start, start + length))
                    start += length
                else:
                    start += 1
        if not found:
            return line
        parts, end_of_last = [], 0
        for start, end in sorted(found):
            if start < end_of_last:  # overlaps a longer value masked already
                continue
            parts += [data[end_of_last:start], MASK.encode()]
            end_of_last = end
        return b"".join([*parts, data[end_of_last:]]).decode(errors="replace")


def record(directory: Path, values: Iterable[str]) -> None:
    """Add the digests of `values` to `directory`'s fingerprints (created 0600)."""
    wanted = [v for v in values if len(v) >= MIN_LENGTH]
    if not wanted:
        return
    with _lock:
        directory.mkdir(parents=True, exist_ok=True)
        found = Fingerprints.load(directory)
        key = found.key if found is not None else secrets.token_bytes(32)
        old = [] if found is None else list(found.entries)
        new = [(_length(v), _digest(key, v)) for v in wanted]
        entries = [e for e in old if e not in new] + list(dict.fromkeys(new))
        data = {"key": key.hex(), "entries": [list(e) for e in entries[-MAX_ENTRIES:]]}
        path = directory / FILENAME
        partial = path.with_name(path.name + ".tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(data, file)
        try:
            partial.replace(path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()


def redactor(directory: Path) -> Fingerprints | None:
    """The fingerprints that mask what instances logging in `directory` were given."""
    return Fingerprints.load(directory)
