"""The data directory is private (0700), the SQLite database 0600, from the first start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from code_engine.clock import utc_now
from code_engine.runtime import build_runtime
from code_engine.settings import Settings
from code_engine.store.datadir import secure_data_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_directory_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runtime = build_runtime(Settings(env="dev", data_dir=data), utc_now)
    with runtime.db.session() as session:
        session.connection().exec_driver_sql("CREATE TABLE t (x INTEGER)")
    runtime.db.dispose()
    assert _mode(data) == 0o700
    assert _mode(data / "code.db") == 0o600
    assert _mode(data / "keys") == 0o700
    assert {_mode(key) for key in (data / "keys").iterdir()} == {0o600}


def test_an_existing_open_directory_is_closed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    secure_data_dir(data)
    assert _mode(data) == 0o700


def test_with_an_instance_group_only_traversal_and_releases_are_shared(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    (data / "logs").chmod(0o755)
    (data / "stray.txt").write_text("x")
    group = os.getegid()
    secure_data_dir(data, group)
    assert _mode(data) == 0o710
    assert _mode(data / "releases") == 0o750
    assert _mode(data / "logs") == 0o700
    assert _mode(data / "run") == 0o700
    assert _mode(data / "stray.txt") == 0o600
    # a server started later without the group keeps the traversal the worker granted
    secure_data_dir(data)
    assert _mode(data) == 0o710
