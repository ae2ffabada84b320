"""`codectl dr` loads only its own command group: a backup does not pay for the whole CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from code_engine.cli.main import run
try:
    run(["dr", "--help"])
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = [m for m in ("code_engine.deploy", "code_engine.auth.passwords", "alembic", "fastapi")
         if m in sys.modules]
print("heavy=" + ",".join(heavy))
"""


def test_dr_commands_do_not_import_the_rest_of_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert "dr" in done.stdout  # the group's help was printed
    assert done.stdout.strip().splitlines()[-1] == "heavy="  # none of the heavy modules


def test_other_commands_still_see_every_group() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "code_engine", "--help"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "dr" in done.stdout and "deploy" in done.stdout


DATA_FIRST = """
import sys
from code_engine.cli import dr_cmd
from code_engine.cli.context import load_settings
from code_engine.dr import load_config
config = load_config(load_settings())
assert [s.kind for s in config.sources][-2:] == ["postgres", "sqlite"], config
late = [m for m in ("sqlalchemy", "psycopg", "code_engine.store.tables", "code_engine.audit.trail")
        if m in sys.modules]
print("late=" + ",".join(late))
"""

SPEC = """\
service: shop
repo: .
environments:
  - name: dev
    target: {kind: local, command: "app {port}"}
backup:
  store: store
  sources:
    - {name: orders-pg, kind: postgres, url_env: SHOP_PG_URL}
    - {name: orders, kind: sqlite, path: orders.db}
"""


def test_a_backup_or_restore_starts_before_the_database_layer_is_loaded(tmp_path: Path) -> None:
    """SQLAlchemy, the tables and psycopg load on a thread or when a source needs them: the
    command line, the settings and the configuration are all a backup waits for."""
    spec = tmp_path / "code.yaml"
    spec.write_text(SPEC)
    env = {
        **os.environ,
        "CODE_DATA_DIR": str(tmp_path / "data"),
        "CODE_DR_SPEC": str(spec),
        "SHOP_PG_URL": "postgresql://shop@127.0.0.1:5432/shop",
    }
    done = subprocess.run(
        [sys.executable, "-c", DATA_FIRST], capture_output=True, text=True, timeout=120,
        check=True, env=env,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "late="
