"""CODE's database opened on a thread while a command moves data: same database, same errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from code_engine.cli import context
from code_engine.cli.context import DatabaseOpening
from code_engine.errors import CodeError
from code_engine.settings import Settings
from code_engine.store.engine import Database


def test_an_opening_gives_a_migrated_database_opened_on_its_own_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_open = context.open_database

    def spy(settings: Settings, migrate: bool = True) -> Database:
        seen.append(threading.current_thread().name)
        return real_open(settings, migrate)

    monkeypatch.setattr(context, "open_database", spy)
    opening = DatabaseOpening(Settings(data_dir=tmp_path))
    db = opening.start().get()
    assert seen == ["code-open-database"]
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    assert opening.get() is db  # opened once
    opening.close()


def test_an_opening_never_started_opens_when_first_asked(tmp_path: Path) -> None:
    opening = DatabaseOpening(Settings(data_dir=tmp_path))
    opening.close()  # nothing opened, nothing started
    db = opening.get()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    opening.close()


def test_what_the_opening_raised_is_raised_to_every_caller(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{blocked}/code.db")
    opening = DatabaseOpening(settings).start()
    for _ in range(2):
        with pytest.raises(CodeError, match="cannot be opened .*: nothing was recorded"):
            opening.get()
    opening.close()  # an opening that failed has nothing to dispose of


def test_a_password_in_the_url_is_not_repeated_in_the_error() -> None:
    url = "postgresql+psycopg://code:s3cret@127.0.0.1:1/code"  # pragma: allowlist secret
    opening = DatabaseOpening(Settings(database_url=url))
    with pytest.raises(CodeError) as raised:
        opening.get()
    assert "s3cret" not in str(raised.value)
    assert "postgresql+psycopg://code:***@127.0.0.1:1/code" in str(raised.value)


def test_starting_from_several_threads_opens_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_open = context.open_database

    def counting(settings: Settings, migrate: bool = True) -> Database:
        calls.append(1)
        return real_open(settings, migrate)

    monkeypatch.setattr(context, "open_database", counting)
    opening = DatabaseOpening(Settings(data_dir=tmp_path))
    starters = [threading.Thread(target=opening.start) for _ in range(8)]
    for thread in starters:
        thread.start()
    db = opening.get()
    for thread in starters:
        thread.join()
    assert opening.get() is db and calls == [1]
    opening.close()
