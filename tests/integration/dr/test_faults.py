"""Bad input and faults: a clear error, the documented exit code, an untouched target."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.integration.dr.conftest import Shop, order_names
from tests.support.components import missing, root


def _orders_snapshot(shop: Shop) -> tuple[str, Path]:
    taken = shop.json("dr", "backup", "--source", "orders")[0]["id"]
    return taken, shop.store / "snapshots" / "orders" / taken


def test_wrong_or_missing_key_is_bad_input(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    snap, _ = _orders_snapshot(shop)
    monkeypatch.setenv("CODE_DR_KEY", base64.b64encode(b"w" * 32).decode())
    code, _, err = shop.codectl("dr", "restore", "--id", snap)
    assert code == 2 and "was encrypted with key" in err
    monkeypatch.delenv("CODE_DR_KEY")
    monkeypatch.setenv("CODE_DR_KEY_FILE", str(shop.root / "nope.key"))
    code, _, err = shop.codectl("dr", "verify", snap)
    assert code == 2 and "backup key file not found" in err
    assert not list(shop.root.glob("orders.restored-*"))


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove"])
def test_a_damaged_object_fails_verify_and_restore(shop: Shop, damage: str) -> None:
    snap, where = _orders_snapshot(shop)
    data = where / "data"
    blob = bytearray(data.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0x10
        data.write_bytes(bytes(blob))
    elif damage == "truncate":
        data.write_bytes(bytes(blob[:-10]))
    else:
        data.unlink()
    code, _, err = shop.codectl("dr", "verify", snap)
    assert code == 1, err
    assert {"flip": "failed authentication", "truncate": "truncated", "remove": "missing"}[
        damage
    ] in err
    code, _, err = shop.codectl("dr", "restore", "--id", snap)
    assert code == 1, err
    assert not list(shop.root.glob("*orders.restored-*")), "no half-restored target"
    assert order_names(shop.orders) == ["apple", "pear"]


def test_a_manifest_of_another_source_is_refused(shop: Shop) -> None:
    snap, where = _orders_snapshot(shop)
    uploads = shop.json("dr", "backup", "--source", "uploads")[0]["id"]
    other = shop.store / "snapshots" / "uploads" / uploads / "manifest.json"
    shutil.copy(other, where / "manifest.json.new")
    (where / "manifest.json.new").replace(where / "manifest.json")
    code, out, err = shop.codectl("dr", "list")
    assert code == 0 and "not of the snapshot its place names" in err
    code, _, err = shop.codectl("dr", "restore", "--id", snap, "--source", "orders")
    assert code == 2 and "manifest is of snapshot" in err


def test_a_date_without_snapshot_lists_the_nearest(shop: Shop) -> None:
    snap, _ = _orders_snapshot(shop)
    code, _, err = shop.codectl("dr", "restore", "--date", "2020-01-01")
    assert code == 2 and "no snapshot on 2020-01-01; nearest: " in err and snap in err
    code, _, err = shop.codectl("dr", "restore", "--date", "yesterday")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = shop.codectl("dr", "restore", "--to-time", "2020-01-01T00:00:00Z")
    assert code == 2 and "at or before" in err
    code, _, err = shop.codectl("dr", "restore")
    assert code == 2 and "exactly one of" in err


def test_a_full_disk_at_the_target_leaves_nothing(shop: Shop, tmp_path: Path) -> None:
    root("mounting a small tmpfs")
    shop.add_orders(*(os.urandom(64).hex() for _ in range(3000)))  # ~500 kB of database
    snap, _ = _orders_snapshot(shop)
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(small)], capture_output=True
    )
    if mounted.returncode != 0:
        missing("root", f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        code, _, err = shop.codectl(
            "dr", "restore", "--id", snap, "--target", str(small / "orders.db")
        )
        assert code == 3 and "no space left" in err
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


def _spawn(shop: Shop, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "code_engine", *args],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(predicate, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, "finished before it could be killed"
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.005)


def test_sigkill_during_backup_and_restore(shop: Shop, tmp_path: Path) -> None:
    (shop.root / "uploads" / "big.bin").write_bytes(os.urandom(96 * 1024 * 1024))
    proc = _spawn(shop, "dr", "backup", "--source", "uploads")
    staging = shop.store / ".staging"
    _wait_for(lambda: any(p.stat().st_size > 8 << 20 for p in staging.glob("*/data")), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert shop.json("dr", "list") == []
    assert list(staging.iterdir()), "the killed backup left its staging area"
    snap = shop.json("dr", "backup", "--source", "uploads")[0]["id"]
    assert [p.name for p in staging.iterdir()] == []  # cleaned by the next backup
    assert [i["id"] for i in shop.json("dr", "list")] == [snap]

    target = tmp_path / "restored-uploads"
    proc = _spawn(shop, "dr", "restore", "--id", snap, "--target", str(target))
    _wait_for(lambda: any(tmp_path.glob(".restored-uploads.restoring-*/big.bin")), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not target.exists()
    shop.json("dr", "restore", "--id", snap, "--target", str(target))
    assert (target / "big.bin").stat().st_size == 96 * 1024 * 1024


def test_an_engine_database_that_cannot_be_opened_fails_after_the_data_moved(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CODE's database opens while a backup moves its data: when it cannot be opened the command
    fails with the environment's exit code, says nothing was recorded, and the snapshot it
    wrote stays in the store."""
    blocked = shop.root / "not-a-directory"
    blocked.write_text("a file")
    monkeypatch.setenv("CODE_DATABASE_URL", f"sqlite:///{blocked}/code.db")
    code, _, err = shop.codectl("dr", "backup", "--source", "orders", "-o", "json")
    assert code == 3
    assert "cannot be opened" in err and "nothing was recorded" in err
    assert len(list((shop.store / "snapshots" / "orders").glob("*/manifest.json"))) == 1
