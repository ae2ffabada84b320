"""`codectl dr` on real SQLite files and directories with a directory store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from tests.integration.dr.conftest import Shop, order_names


def test_backup_list_verify_and_restore_beside_the_live_data(shop: Shop) -> None:
    taken = shop.json("dr", "backup")
    assert {t["source"] for t in taken} == {
        "code-database", "code-data", "service-config", "orders", "uploads"
    }  # fmt: skip
    assert all(t["stored_bytes"] > 0 for t in taken)
    listed = shop.json("dr", "list")
    assert {i["id"] for i in listed} == {t["id"] for t in taken}
    assert all(i["stores"] == [str(shop.store)] for i in listed)
    orders = next(t for t in taken if t["source"] == "orders")
    manifest = json.loads(
        (shop.store / "snapshots" / "orders" / orders["id"] / "manifest.json").read_text()
    )
    assert manifest["engine"].startswith("SQLite") and manifest["release"]
    assert len(manifest["objects"][0]["sha256"]) == 64 and manifest["key_id"]
    # stored bytes are encrypted: no plaintext of the upload in the store
    blobs = b"".join(p.read_bytes() for p in shop.store.rglob("data"))
    assert b"first upload" not in blobs and b"apple" not in blobs

    verified = shop.json("dr", "verify", "--all", "--restore-test")
    assert all(v["restore_test"]["checks"] for v in verified)
    assert all(i["verified"] for i in shop.json("dr", "list"))

    shop.add_orders("plum")
    restored = shop.json("dr", "restore", "--id", orders["id"])
    target = restored[0]["target"]
    assert Path(target).parent == shop.root and target != str(shop.orders)
    assert order_names(target) == ["apple", "pear"]
    assert order_names(shop.orders) == ["apple", "pear", "plum"]  # live data untouched


def test_restore_in_place_takes_a_safety_snapshot_first(shop: Shop) -> None:
    shop.json("dr", "backup", "--source", "orders")
    shop.add_orders("plum")
    day = shop.json("dr", "list")[0]["taken_at"][:10]
    result = shop.json("dr", "restore", "--date", day, "--source", "orders", "--force")[0]
    assert result["in_place"] and result["safety_snapshot"]
    assert order_names(shop.orders) == ["apple", "pear"]
    assert order_names(result["previous"]) == ["apple", "pear", "plum"]
    safety = shop.json("dr", "restore", "--id", result["safety_snapshot"], "--source", "orders")
    assert order_names(safety[0]["target"]) == ["apple", "pear", "plum"]
    with sqlite3.connect(shop.orders) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_directory_and_data_dir_restore(shop: Shop, tmp_path: Path) -> None:
    shop.json("dr", "backup", "--source", "uploads")
    shop.json("dr", "backup", "--source", "code-data")
    listed = {i["source"]: i["id"] for i in shop.json("dr", "list")}
    out = tmp_path / "uploads-copy"
    shop.json("dr", "restore", "--id", listed["uploads"], "--target", str(out))
    assert (out / "a.txt").read_text() == "first upload"
    assert (out / "img" / "b.bin").read_bytes() == (shop.root / "uploads/img/b.bin").read_bytes()
    data = shop.json("dr", "restore", "--id", listed["code-data"])[0]["target"]
    assert (Path(data) / "keys" / "signing.pem").is_file()
    assert not (Path(data) / "code.db").exists()  # the database is its own source


def test_drill_records_rto_and_rpo_and_prune_is_a_dry_run(shop: Shop) -> None:
    shop.json("dr", "backup")
    code, out, err = shop.codectl("dr", "drill", "-o", "json")
    assert code == 0, err
    drill = json.loads(out)
    assert drill["status"] == "passed" and drill["rto_seconds"] > 0
    assert drill["rpo_seconds"] >= 0 and drill["rto_objective_seconds"] == 3600
    assert drill["sources"]["orders"]["checks"]["SELECT count(*) FROM orders"] == [[2]]
    shop.json("dr", "backup", "--source", "orders")
    plan = shop.json("dr", "prune")
    assert any(p["action"] == "would remove" for p in plan)
    before = len(shop.json("dr", "list"))
    shop.json("dr", "prune", "--yes")
    assert len(shop.json("dr", "list")) == before - 1


def test_assess_reads_recorded_drills_not_files(shop: Shop, tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from code_engine.assess import assess_repository
    from code_engine.cli.assess_cmd import recorded_drills

    repo = tmp_path / "repo"
    (repo / "docs" / "dr" / "drills").mkdir(parents=True)
    (repo / "docs" / "dr" / "drills" / "2099-01-01.md").write_text("# drill in the future\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    now = datetime.now(timezone.utc)

    def failing(drills: list[datetime] | None) -> bool:
        return "dr.drill" in assess_repository(repo, drills=drills).failing_ids

    assert failing(None)  # a file dated in the future proves nothing
    assert recorded_drills() == []  # the engine keeps records, none passed yet
    assert failing([])
    assert failing([now + timedelta(days=3)])
    shop.json("dr", "backup")
    assert shop.codectl("dr", "drill")[0] == 0
    recorded = recorded_drills()
    assert recorded and not failing(recorded)


def test_a_directory_restored_in_place_keeps_the_old_entries_aside(shop: Shop) -> None:
    snap = shop.json("dr", "backup", "--source", "uploads")[0]["id"]
    (shop.root / "uploads" / "a.txt").write_text("changed")
    (shop.root / "uploads" / "new.txt").write_text("added after the backup")
    result = shop.json("dr", "restore", "--id", snap, "--force")[0]
    assert (shop.root / "uploads" / "a.txt").read_text() == "first upload"
    assert (shop.root / "uploads" / "new.txt").exists()  # not in the snapshot: left alone
    assert (Path(result["previous"]) / "a.txt").read_text() == "changed"
    code, _, err = shop.codectl("dr", "restore", "--id", snap, "--target", str(shop.root))
    assert code == 2 and "exists" in err
    code, _, err = shop.codectl("dr", "verify")
    assert code == 2 and "--all" in err
    code, _, err = shop.codectl("dr", "restore", "--to-time", "2024-01-01T00:00:00")
    assert code == 2 and "offset" in err
    code, out, _ = shop.codectl("dr", "key", "generate", str(shop.key_file))
    assert code == 2
