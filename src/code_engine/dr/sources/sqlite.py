"""SQLite: the online backup API for a consistent copy while the database is in use.

A restore writes a temporary file beside the target, runs `PRAGMA integrity_check` on it and
renames it into place, so the target is either the old file or the whole checked copy.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from code_engine.dr.errors import DrError, IntegrityError, TargetExistsError
from code_engine.dr.sources.base import CheckReport, Readable, Writable, copy_stream, os_error

PAGES_PER_STEP = 4096


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
                copy_stream(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            _integrity(temp)
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


def _integrity(path: Path) -> str:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise IntegrityError(f"{path}: not a valid SQLite database ({exc})") from None
    if result != ["ok"]:
        raise IntegrityError(f"{path}: integrity_check failed: {'; '.join(result[:5])}")
    return "ok"
