"""`at_head` says a database needs no upgrade only when it is stamped with the one head."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from code_engine.store.engine import make_database
from code_engine.store.heads import at_head, file_heads
from code_engine.store.migrate import upgrade


def test_a_database_is_at_head_only_after_the_upgrade(tmp_path: Path) -> None:
    db = make_database(f"sqlite:///{tmp_path / 'code.db'}")
    assert not at_head(db.engine)  # never migrated
    upgrade(db.engine)
    assert at_head(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not at_head(db.engine)  # behind: the real upgrade runs
    db.dispose()


def test_heads_of_the_files_follow_the_chain(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a1"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text("revision: str = 'b2'\ndown_revision: str | None = 'a1'\n")
    assert file_heads(tmp_path) == {"b2"}
    (tmp_path / "c.py").write_text('revision = "c3"\ndown_revision = "a1"\n')
    assert file_heads(tmp_path) == {"b2", "c3"}  # two heads: at_head never says yes
    (tmp_path / "m.py").write_text('revision = "m4"\ndown_revision = ("b2", "c3")\n')
    assert file_heads(tmp_path) == {"m4"}
