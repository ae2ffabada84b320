"""PostgreSQL sources against a real server: pg_dump -Fc, pg_restore into a new database, swap."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.integration.dr.conftest import Shop
from tests.support.components import missing

from code_engine.dr.sources.postgres import libpq_url

pytestmark = pytest.mark.postgres
POSTGRES_URL = os.environ.get("CODE_TEST_POSTGRES_URL", "")


def admin() -> psycopg.Connection:
    return psycopg.connect(libpq_url(POSTGRES_URL), autocommit=True)


@pytest.fixture
def pg_source(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database `code_test_dr_*` with an `items` table, declared as source `ledger`."""
    if not POSTGRES_URL:
        missing("postgres", "CODE_TEST_POSTGRES_URL is not set")
    name = f"code_test_dr_{secrets.token_hex(4)}"
    with admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rpartition("/")[0]
    url = f"{base}/{name}"
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 500) g")
    spec = shop.root / "code.yaml"
    ledger = (
        "    - name: ledger\n      kind: postgres\n      url_env: LEDGER_URL\n"
        '      smoke: ["SELECT count(*) FROM items"]\n'
    )
    spec.write_text(spec.read_text() + ledger)
    monkeypatch.setenv("LEDGER_URL", url)
    yield name
    with admin() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{name}%",)
        ).fetchall()
        for (db,) in rows:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def count(database: str) -> int:
    base = POSTGRES_URL.rpartition("/")[0]
    with psycopg.connect(libpq_url(f"{base}/{database}")) as conn:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])  # type: ignore[index]


def test_backup_and_restore_into_a_new_database_then_swap(shop: Shop, pg_source: str) -> None:
    taken = shop.json("dr", "backup", "--source", "ledger")[0]
    manifest = json.loads(
        Path(shop.store / "snapshots" / "ledger" / taken["id"] / "manifest.json").read_text()
    )
    assert manifest["engine"].startswith("PostgreSQL 15")
    assert "pg_dump" in manifest["tools"]["pg_dump"]
    base = POSTGRES_URL.rpartition("/")[0]
    with psycopg.connect(libpq_url(f"{base}/{pg_source}"), autocommit=True) as conn:
        conn.execute("INSERT INTO items (name) VALUES ('late')")

    restored = shop.json("dr", "restore", "--id", taken["id"])[0]
    new_db = restored["target"]
    assert new_db.startswith(f"{pg_source}_restored_")
    assert count(new_db) == 500 and count(pg_source) == 501
    assert restored["checks"]["SELECT count(*) FROM items"] == [[500]]
    code, _, err = shop.codectl("dr", "restore", "--id", taken["id"])
    assert code == 2 and "exists" in err

    inplace = shop.json("dr", "restore", "--id", taken["id"], "--force")[0]
    assert inplace["in_place"] and inplace["safety_snapshot"]
    assert count(pg_source) == 500
    assert count(inplace["previous"].removeprefix("database ")) == 501

    verified = shop.json("dr", "verify", taken["id"], "--restore-test")[0]
    assert verified["restore_test"]["checks"]["tables"] == 1
    with admin() as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s", (f"{pg_source}_drill_%",)
        ).fetchone()
    assert left == (0,)


def test_a_failing_dump_is_recorded_and_lists_nothing(
    shop: Shop, pg_source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = POSTGRES_URL.rpartition("/")[0]
    monkeypatch.setenv("LEDGER_URL", f"{base}/{pg_source}_absent")
    code, _, err = shop.codectl("dr", "backup", "--source", "ledger")
    assert code == 3 and "does not exist" in err and "unexpected" not in err
    assert shop.json("dr", "list") == []


def test_a_snapshot_of_an_uncompressed_archive_still_restores(shop: Shop, pg_source: str) -> None:
    """Snapshots taken with `pg_dump -Z0` (before archives were gzip level 1) restore as ever."""
    from code_engine.dr.sources.postgres import PostgresSource

    PostgresSource.archive_compression = "-Z0"
    try:
        old = shop.json("dr", "backup", "--source", "ledger")[0]
    finally:
        PostgresSource.archive_compression = "-Z1"
    new = shop.json("dr", "backup", "--source", "ledger")[0]
    assert old["raw_bytes"] > new["raw_bytes"]  # the archive inside was not compressed
    restored = shop.json("dr", "restore", "--id", old["id"], "--source", "ledger")[0]
    assert count(restored["target"]) == 500
