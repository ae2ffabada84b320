"""The source protocol: dump into a stream, restore a stream into a new target, check it."""

from __future__ import annotations

import errno
import fcntl
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from code_engine.dr.errors import DiskFullError, DrError
from code_engine.dr.stage import Stage

COPY_BLOCK = 4 * 1024 * 1024
# writes into a file: measured on a 1 GB restore, 4 MiB writes took 0.9-2.6 s where 64-256 KiB
# writes took 0.5 s (the kernel fills large page-cache folios for large writes, and on a
# virtual machine that returns free memory to its host those pages come back slowly)
FILE_BLOCK = 256 * 1024
PIPE_BYTES = 1024 * 1024  # a pipe between two processes of a stream (Linux's default: 64 KiB)


class Writable(Protocol):
    def write(self, data: bytes | bytearray | memoryview) -> int: ...


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class CheckReport:
    """What the integrity check and smoke queries of a restored copy found."""

    target: str
    checks: dict[str, Any] = field(default_factory=dict)


class Source(Protocol):
    """One thing CODE backs up. `restore` only ever writes a target that does not exist yet."""

    name: str
    kind: str

    def describe(self) -> str:
        """Where the live data is (path or URL without password)."""

    def versions(self) -> tuple[str, dict[str, str]]:
        """The engine's version and the versions of the tools used."""

    def dump(self, out: Writable, scratch: Path) -> dict[str, Any]:
        """Write a consistent copy to `out`; returns details for the manifest."""

    def beside(self, snapshot_id: str) -> str:
        """The default restore target: a new one next to the live data."""

    def live(self) -> str:
        """The live target (used by an in-place restore)."""

    def restore(self, data: Readable, target: str, scratch: Path) -> None:
        """Restore into the new `target`, leaving nothing behind on failure."""

    def check(self, target: str, smoke: tuple[str, ...]) -> CheckReport:
        """Integrity check and smoke queries; `IntegrityError` when they fail."""

    def replace_live(self, target: str, snapshot_id: str) -> str:
        """Put the restored `target` in place of the live data; returns where the old went."""

    def discard(self, target: str) -> None:
        """Remove a scratch target after a drill or a restore test."""


def copy_stream(src: Readable | BinaryIO, out: Writable) -> int:
    total = 0
    while True:
        block = src.read(COPY_BLOCK)
        if not block:
            return total
        out.write(block)
        total += len(block)


def widen_pipe(stream: Any) -> None:
    """Make the pipe behind `stream` hold 1 MiB: fewer wake-ups between the two processes."""
    try:
        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError, ValueError):
        pass  # not a pipe, or not Linux: the default size works, a little slower


def copy_overlapped(src: Readable, out: Writable, block_size: int = COPY_BLOCK) -> int:
    """`copy_stream` with the writes on their own thread.

    Reading (a tool's output, or decrypting and decompressing) overlaps writing (compressing,
    a tool's input that blocks on the tool, or a file: in `FILE_BLOCK` pieces, a restored
    SQLite file of 1 GB was written in 0.4-0.55 s instead of 0.6 s). The first error of either
    side is raised here; after a read error nothing more is written.
    """
    writer = _Writer(out)
    total = 0
    try:
        while block := src.read(block_size):
            writer.feed(block, False)  # raises the writer's first error
            total += len(block)
    except BaseException:
        writer.abandon()
        raise
    writer.close()
    return total


class _Writer(Stage):
    def __init__(self, out: Writable) -> None:
        self.out = out
        super().__init__("code-dr-write")

    def handle(self, chunk: bytes, final: bool) -> None:  # noqa: ARG002
        self.out.write(chunk)


def os_error(exc: OSError, where: str) -> DrError:
    """ENOSPC becomes `DiskFullError`; any other OS error names the path."""
    if exc.errno == errno.ENOSPC:
        return DiskFullError(f"{where}: no space left on the device; the target was not changed")
    return DrError(f"{where}: {exc.strerror or exc}")


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
