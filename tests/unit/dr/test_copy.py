"""The overlapped copy of a restore: every byte in order, and the first error of either side."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest

from code_engine.dr.errors import IntegrityError
from code_engine.dr.sources.base import COPY_BLOCK, copy_overlapped, widen_pipe


class Failing:
    """A reader that fails after `blocks` blocks (an altered chunk, say)."""

    def __init__(self, blocks: int) -> None:
        self.left = blocks

    def read(self, size: int = -1) -> bytes:
        if self.left == 0:
            raise IntegrityError("chunk 3 failed authentication")
        self.left -= 1
        return b"x" * size


class Full:
    """A writer whose device fills up after `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit, self.written = limit, 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.written + len(data) > self.limit:
            raise OSError(28, "No space left on device")
        self.written += len(data)
        return len(data)


def test_every_byte_arrives_in_order() -> None:
    data = os.urandom(3 * COPY_BLOCK + 12345)
    out = io.BytesIO()
    assert copy_overlapped(io.BytesIO(data), out) == len(data)
    assert out.getvalue() == data


def test_a_read_error_is_raised_and_stops_the_writes() -> None:
    out = Full(limit=1 << 40)
    with pytest.raises(IntegrityError, match="chunk 3"):
        copy_overlapped(Failing(blocks=3), out)
    assert out.written <= 3 * COPY_BLOCK


def test_a_write_error_is_raised_to_the_reader() -> None:
    with pytest.raises(OSError, match="No space left"):
        copy_overlapped(io.BytesIO(b"y" * (5 * COPY_BLOCK)), Full(limit=2 * COPY_BLOCK))


def test_a_pipe_is_widened_and_anything_else_left_alone() -> None:
    proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # noqa: S607
    try:
        widen_pipe(proc.stdin)
        widen_pipe(io.BytesIO())  # no descriptor: nothing to do
        assert proc.stdin is not None
        proc.stdin.write(b"through")
        proc.stdin.close()
        assert proc.stdout is not None
        assert proc.stdout.read() == b"through"
    finally:
        proc.wait()


def test_an_fsync_beside_the_check_reports_its_error(tmp_path: Path) -> None:
    from code_engine.dr.sources.sqlite import _Durable

    with (tmp_path / "copy.db").open("wb") as handle:
        handle.write(b"pages")
        durable = _Durable(handle)
        durable.start()
        durable.join()
        durable.raise_error()  # a good file: nothing to report

    class Gone:
        def flush(self) -> None:
            pass

        def fileno(self) -> int:
            return 999_999  # no such descriptor: the fsync fails as a full disk would

    durable = _Durable(Gone())
    durable.start()
    durable.join()
    with pytest.raises(OSError):
        durable.raise_error()
