"""Settings and database for commands that act on the engine directly (not through the API)."""

from __future__ import annotations

from pydantic import ValidationError

from code_engine.errors import ConfigError
from code_engine.settings import Settings
from code_engine.store.engine import Database, make_database
from code_engine.store.heads import at_head


def load_settings(**overrides: object) -> Settings:
    """Read `CODE_*` settings; a bad value becomes one readable line per problem."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            name = f"CODE_{field.upper()}" if field else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None


def open_database(settings: Settings, migrate: bool = True) -> Database:
    db = make_database(settings.resolved_database_url)
    if migrate and not at_head(db.engine):
        from code_engine.store.migrate import upgrade  # alembic: only when there is work

        upgrade(db.engine)
    return db
