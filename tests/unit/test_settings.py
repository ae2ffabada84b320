from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from code_engine.cli.context import load_settings
from code_engine.errors import ConfigError
from code_engine.settings import Settings, sqlite_database


def test_defaults_live_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'code.db'}"
    assert settings.keys_dir == tmp_path / "keys"
    assert (settings.host, settings.port, settings.otlp_endpoint) == ("127.0.0.1", 8080, "")


def test_weak_signing_passphrase_is_refused_outside_dev() -> None:
    with pytest.raises(ValidationError, match="CODE_JWT_KEY_PASSPHRASE"):
        Settings(env="prod")
    with pytest.raises(ValidationError, match="CODE_JWT_KEY_PASSPHRASE"):
        Settings(env="prod", jwt_key_passphrase="changeme")
    ok = Settings(env="prod", jwt_key_passphrase="correct horse battery staple")
    assert ok.env == "prod"


def test_weak_bootstrap_secret_is_refused_outside_dev() -> None:
    with pytest.raises(ValidationError, match="BOOTSTRAP_CLIENT_SECRET"):
        Settings(
            env="prod",
            jwt_key_passphrase="x" * 20,
            bootstrap_client_id="admin",
            bootstrap_client_secret="short",
        )


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODE_PORT", "9000")
    assert Settings().port == 9000
    monkeypatch.setenv("CODE_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="CODE_PORT: "):
        load_settings()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///a.db",
        "sqlite:////srv/code/a.db",
        "sqlite+pysqlite:////srv/with%20space.db?mode=ro",
        "sqlite:///:memory:",
        "sqlite:///relative/dir/c.db?timeout=3",
        "postgresql+psycopg://code@db.internal:5432/code",
        "postgresql://code@db.internal/code",
    ],
)
def test_sqlite_database_reads_a_url_as_sqlalchemy_does(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    expected = parsed.database if parsed.get_backend_name() == "sqlite" else None
    assert sqlite_database(url) == expected
