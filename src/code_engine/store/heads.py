"""Whether a database is already at the newest migration, without loading Alembic.

Reads `revision` and `down_revision` from the migration files (a few small text files) and
the stamp in `alembic_version`. A database at the single head needs no upgrade; anything
else (no stamp, another revision, several heads, a file it cannot read) says "not sure", and
the caller runs the real upgrade.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_ASSIGN = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


def file_heads(versions: Path = VERSIONS) -> set[str]:
    """Revisions no other migration file names as its `down_revision`."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        for name, value in _ASSIGN.findall(path.read_text(encoding="utf-8")):
            found = set(re.findall(r'"([^"]+)"|\'([^\']+)\'', value))
            ids = {a or b for a, b in found}
            (revisions if name == "revision" else parents).update(ids)
    return revisions - parents


def at_head(engine: Engine) -> bool:
    """True only when the database is stamped with the one head of the migration files."""
    try:
        heads = file_heads()
        if len(heads) != 1 or not inspect(engine).has_table("alembic_version"):
            return False
        with engine.connect() as conn:
            stamped = {
                str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))
            }
    except Exception:  # noqa: BLE001 - unsure means "run the real upgrade"
        return False
    return stamped == heads
