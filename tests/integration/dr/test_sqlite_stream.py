"""The SQLite dump streams the file under a read transaction, or copies when the WAL is busy."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from code_engine.dr.sources import sqlite as sqlite_source
from code_engine.dr.sources.sqlite import SqliteSource


def _database(path: Path, journal: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"row {i}",) for i in range(2000)])
    conn.commit()
    conn.close()


def _rows(blob: bytes, tmp_path: Path) -> int:
    copy = tmp_path / "copy.db"
    copy.write_bytes(blob)
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_an_idle_database_is_streamed_without_a_copy(
    tmp_path: Path, journal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.db"
    _database(path, journal)
    copies: list[Path] = []
    monkeypatch.setattr(SqliteSource, "_copy_then_stream", lambda *a: copies.append(a[-1]))
    out = io.BytesIO()
    details = SqliteSource("app", path).dump(out, tmp_path)
    assert copies == [] and details["database_bytes"] == path.stat().st_size
    assert _rows(out.getvalue(), tmp_path) == 2000


def test_writes_kept_in_the_wal_by_a_reader_are_copied_through_the_backup_api(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    _database(path, "wal")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # pins the WAL: no truncation
    writer = sqlite3.connect(path)
    writer.execute("INSERT INTO t (v) VALUES ('late')")
    writer.commit()
    try:
        out = io.BytesIO()
        SqliteSource("app", path).dump(out, tmp_path)
        assert _rows(out.getvalue(), tmp_path) == 2001  # the committed row is in the dump
    finally:
        reader.close()
        writer.close()


def test_a_short_read_of_the_file_fails_the_dump(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _database(path, "delete")
    with pytest.raises(sqlite_source.DrError, match="read"):
        sqlite_source._read_file(path, path.stat().st_size + 4096, io.BytesIO())
