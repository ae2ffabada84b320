"""SQLite: a consistent copy while the database is in use, streamed without a temporary copy.

The dump holds a read transaction and streams the database file as of that transaction
(in WAL mode: checkpointed first, and only while the WAL stays empty, so the file is the
whole snapshot). The file is read by a child process: closing a descriptor of the database
in this process would drop SQLite's POSIX locks of every connection this process holds.
When the file is not a snapshot by itself (writes kept the WAL busy), the online backup API
copies it into scratch first.

A restore writes a temporary file beside the target, runs `PRAGMA integrity_check` on it and
renames it into place, so the target is either the old file or the whole checked copy. The
fsync runs beside the integrity check (which reads the pages from the page cache); the rename
waits for both.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import Any

from code_engine.dr.errors import DrError, IntegrityError, TargetExistsError
from code_engine.dr.sources.base import (
    FILE_BLOCK,
    CheckReport,
    Readable,
    Writable,
    copy_overlapped,
    copy_stream,
    os_error,
    widen_pipe,
)

PAGES_PER_STEP = 4096
CHECKPOINT_WAIT = 0.2  # seconds


class SqliteSource:
    kind = "sqlite"

    def __init__(self, name: str, path: Path) -> None:
        self.name, self.path = name, path
        self._checked: set[str] = set()  # restored here, integrity_check passed before the rename

    def describe(self) -> str:
        return str(self.path)

    def versions(self) -> tuple[str, dict[str, str]]:
        return f"SQLite {sqlite3.sqlite_version}", {"sqlite3": sqlite3.sqlite_version}

    def dump(self, out: Writable, scratch: Path) -> dict[str, Any]:
        if not self.path.is_file():
            raise DrError(f"{self.path}: SQLite database not found")
        streamed = self._stream(out)
        if streamed is not None:
            return {"database_bytes": streamed}
        return self._copy_then_stream(out, scratch)

    def _checkpoint(self) -> None:
        # a TRUNCATE checkpoint holds new writers back while it waits: never for long
        try:
            conn = sqlite3.connect(self.path, timeout=CHECKPOINT_WAIT)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # read-only file or busy: the WAL check below decides

    def _stream(self, out: Writable) -> int | None:
        """The database file under a read transaction, or None when it is not a snapshot."""
        wal = Path(f"{self.path}-wal")
        if wal.exists():
            self._checkpoint()
        try:
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=30, isolation_level=None
            )
        except sqlite3.Error:
            return None
        try:
            conn.execute("BEGIN")
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read lock
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            snapshot = not wal.exists() or wal.stat().st_size == 0  # else pages in the WAL
        except sqlite3.Error:
            snapshot = False  # the online backup API gives the error, or copes
        if not snapshot:
            conn.close()
            return None
        try:
            return _read_file(self.path, int(page_size) * int(pages), out)
        finally:
            conn.close()

    def _copy_then_stream(self, out: Writable, scratch: Path) -> dict[str, Any]:
        copy = scratch / f"{self.name}.sqlite"
        source = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            target = sqlite3.connect(copy)
            try:
                source.backup(target, pages=PAGES_PER_STEP)
            finally:
                target.close()
        except sqlite3.DatabaseError as exc:
            raise DrError(f"{self.path}: cannot back up ({exc})") from None
        except OSError as exc:
            raise os_error(exc, str(scratch)) from None
        finally:
            source.close()
        try:
            with copy.open("rb") as handle:
                size = copy_stream(handle, out)
        finally:
            copy.unlink(missing_ok=True)
        return {"database_bytes": size}

    def beside(self, snapshot_id: str) -> str:
        return str(
            self.path.with_name(f"{self.path.stem}.restored-{snapshot_id}{self.path.suffix}")
        )

    def live(self) -> str:
        return str(self.path)

    def restore(self, data: Readable, target: str, scratch: Path) -> None:  # noqa: ARG002
        final = Path(target)
        if final.exists():
            raise TargetExistsError(f"{final}: exists; give another --target")
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name(f".{final.name}.restoring-{os.getpid()}")
        try:
            with temp.open("wb") as handle:
                copy_overlapped(data, handle, FILE_BLOCK)
                durable = _Durable(handle)
                try:
                    durable.start()
                    _integrity(temp)
                finally:
                    durable.join()
                durable.raise_error()
            os.link(temp, final)  # never replaces: fails if the target appeared meanwhile
            self._checked.add(str(final))
        except OSError as exc:
            raise os_error(exc, str(final)) from None
        finally:
            temp.unlink(missing_ok=True)

    def check(self, target: str, smoke: tuple[str, ...]) -> CheckReport:
        # a copy this source just restored was checked before its rename: not read twice
        done = target in self._checked
        checks: dict[str, Any] = {"integrity_check": "ok" if done else _integrity(Path(target))}
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'")
            checks["tables"] = tables.fetchone()[0]
            for query in smoke:
                try:
                    checks[query] = conn.execute(query).fetchall()[:5]
                except sqlite3.DatabaseError as exc:  # noqa: PERF203 - names the failed query
                    raise IntegrityError(f"{target}: smoke query {query!r} failed: {exc}") from None
        finally:
            conn.close()
        return CheckReport(target, checks)

    def replace_live(self, target: str, snapshot_id: str) -> str:
        """Checkpoint the live WAL away, keep the old file, then rename the copy in place."""
        old = self.path.with_name(f"{self.path.name}.before-{snapshot_id}")
        if self.path.exists():
            conn = sqlite3.connect(self.path, timeout=30)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
            os.link(self.path, old)
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        Path(target).replace(self.path)
        return str(old)

    def discard(self, target: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)


MMAP_BYTES = 1 << 31  # SQLite caps it at its build limit (2 GB by default)


def _integrity(path: Path) -> str:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            # pages read through a memory map, not copied into the page cache one by one: the
            # check reads every page once (measured: about a sixth faster at 1 GB)
            conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            result = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise IntegrityError(f"{path}: not a valid SQLite database ({exc})") from None
    if result != ["ok"]:
        raise IntegrityError(f"{path}: integrity_check failed: {'; '.join(result[:5])}")
    return "ok"


class _Durable:
    """An fsync of a file on its own thread, so that reading the file can go on meanwhile."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.thread: threading.Thread | None = None
        self.error: OSError | None = None

    def _fsync(self) -> None:
        try:
            os.fsync(self.handle.fileno())
        except OSError as exc:
            self.error = exc

    def start(self) -> None:
        self.handle.flush()
        self.thread = threading.Thread(target=self._fsync, name="code-dr-fsync", daemon=True)
        self.thread.start()

    def join(self) -> None:
        """Wait for the fsync (never close the file under it)."""
        if self.thread is not None:
            self.thread.join()

    def raise_error(self) -> None:
        """The fsync's error (a full disk, for one), if it had one."""
        if self.error is not None:
            raise self.error


def _read_file(path: Path, size: int, out: Writable) -> int:
    """`size` bytes of `path` through a child process (see the module's note on locks)."""
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        ["head", "-c", str(size), "--", str(path)],  # noqa: S607 - coreutils
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout = proc.stdout
    if stdout is None:  # pragma: no cover - PIPE always gives one
        raise DrError("head gave no output stream")
    widen_pipe(stdout)
    try:
        copied = copy_overlapped(stdout, out)
    finally:
        stdout.close()
        proc.wait()
    if proc.returncode != 0 or copied != size:
        message = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        raise DrError(f"{path}: read {copied} of {size} bytes {message}".strip())
    return copied
