"""A service with a SQLite database and an uploads directory, backed up by `codectl dr`."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from code_engine.cli.main import run
from code_engine.dr.keys import generate_key_file

SPEC = """\
service: shop
repo: .
environments:
  - name: dev
    target: {{kind: local, command: "app {{port}}"}}
backup:
  store: {store}
  schedule: "*/5 * * * *"
  rpo: 1h
  rto: 1h
  sources:
    - name: orders
      kind: sqlite
      path: orders.db
      smoke: ["SELECT count(*) FROM orders"]
    - name: uploads
      kind: directory
      path: uploads
      smoke: ["*.txt"]
"""


@dataclass
class Shop:
    root: Path
    data_dir: Path
    store: Path
    key_file: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def orders(self) -> Path:
        return self.root / "orders.db"

    def add_orders(self, *names: str) -> None:
        with sqlite3.connect(self.orders) as conn:
            conn.executemany("INSERT INTO orders (name) VALUES (?)", [(n,) for n in names])

    def codectl(self, *args: str) -> tuple[int, str, str]:
        try:
            run(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def json(self, *args: str) -> Any:
        code, out, err = self.codectl(*args, "-o", "json")
        assert code == 0, err
        return json.loads(out)


def order_names(path: Path | str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM orders ORDER BY id")]


@pytest.fixture
def shop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Shop:
    root = tmp_path / "shop"
    (root / "uploads" / "img").mkdir(parents=True)
    (root / "uploads" / "a.txt").write_text("first upload")
    (root / "uploads" / "img" / "b.bin").write_bytes(bytes(range(256)) * 100)
    store = tmp_path / "store"
    (root / "code.yaml").write_text(SPEC.format(store=store))
    with sqlite3.connect(root / "orders.db") as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT)")
    key_file = tmp_path / "secrets" / "dr.key"
    generate_key_file(key_file)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CODE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CODE_DR_SPEC", str(root / "code.yaml"))
    monkeypatch.setenv("CODE_DR_KEY_FILE", str(key_file))
    shop = Shop(root, data_dir, store, key_file, capsys)
    shop.add_orders("apple", "pear")
    assert shop.codectl("db", "upgrade")[0] == 0
    (data_dir / "keys").mkdir(parents=True, exist_ok=True)
    (data_dir / "keys" / "signing.pem").write_text("-----BEGIN KEY-----\n")
    return shop
