"""Choosing snapshots by date and time, manifests and their MAC, RPO breach."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from code_engine.dr.domain import (
    Manifest,
    ObjectEntry,
    check_mac,
    check_source_name,
    is_snapshot_id,
    new_snapshot_id,
    parse_manifest,
    pick_before,
    pick_on_date,
    rpo_breached,
)
from code_engine.dr.errors import IntegrityError, SnapshotNotFoundError

T0 = datetime(2024, 1, 15, 2, 7, tzinfo=timezone.utc)


def manifest(at: datetime, source: str = "db", suffix: str = "abcdef") -> Manifest:
    return Manifest(
        id=new_snapshot_id(at, lambda _n: suffix),
        source=source,
        kind="sqlite",
        taken_at=at,
        key_id="k1",
        release="0.1.0",
        engine="SQLite 3",
        tools={"sqlite3": "3"},
        objects=(ObjectEntry("data", 10, 20, "00" * 32),),
    )


def test_snapshot_ids_sort_by_time() -> None:
    sid = new_snapshot_id(T0, lambda _n: "a1b2c3")
    assert sid == "20240115T020700Z-a1b2c3" and is_snapshot_id(sid)
    assert not is_snapshot_id("../etc")
    with pytest.raises(ValueError, match="source name"):
        check_source_name("Bad Name")


def test_manifest_round_trip_and_mac() -> None:
    m = manifest(T0)
    raw = m.to_json(b"mac-key")
    back, mac = parse_manifest(raw, "where")
    assert back == m and back.stored_bytes == 20 and back.raw_bytes == 10
    check_mac(back, mac, b"mac-key", "where")
    with pytest.raises(IntegrityError, match="altered"):
        check_mac(back, mac, b"other", "where")
    with pytest.raises(IntegrityError, match="not a readable"):
        parse_manifest(b"{", "where")


def test_pick_on_date_takes_the_newest_per_source_or_lists_the_nearest() -> None:
    snaps = [
        manifest(T0),
        manifest(T0 + timedelta(hours=5)),
        manifest(T0 + timedelta(hours=1), "files"),
        manifest(T0 + timedelta(days=3)),
    ]
    chosen = pick_on_date(snaps, date(2024, 1, 15))
    assert [(m.source, m.taken_at.hour) for m in chosen] == [("db", 7), ("files", 3)]
    with pytest.raises(SnapshotNotFoundError, match=r"no snapshot on 2024-01-16; nearest: "):
        pick_on_date(snaps, date(2024, 1, 16))
    with pytest.raises(SnapshotNotFoundError, match="no snapshot at all"):
        pick_on_date([], date(2024, 1, 16))


def test_pick_before_a_time() -> None:
    snaps = [manifest(T0), manifest(T0 + timedelta(hours=5))]
    assert pick_before(snaps, T0 + timedelta(hours=4))[0].taken_at == T0
    with pytest.raises(SnapshotNotFoundError, match="at or before"):
        pick_before(snaps, T0 - timedelta(seconds=1))


def test_rpo_breach() -> None:
    assert rpo_breached(None, T0, timedelta(hours=1))
    assert rpo_breached(T0, T0 + timedelta(hours=2), timedelta(hours=1))
    assert not rpo_breached(T0, T0 + timedelta(minutes=59), timedelta(hours=1))
