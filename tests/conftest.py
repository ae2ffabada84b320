"""Fixtures shared by every test: isolated settings, a database per test, API clients, tokens."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient
from tests.support.components import missing, required

from code_engine.api.app import runtime_of
from code_engine.auth.principals import ensure_principal
from code_engine.auth.roles import Binding
from code_engine.server import create_app
from code_engine.settings import Settings
from code_engine.store.engine import Database, make_database
from code_engine.store.migrate import upgrade

POSTGRES_URL = os.environ.get("CODE_TEST_POSTGRES_URL", "")
pytest_plugins = ["tests.support.ci"]  # CI: the Hypothesis profile, the skip list, deadlines


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's config, data or CODE_* environment."""
    for key in list(os.environ):
        if key.startswith("CODE_") and not key.startswith("CODE_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


class MigratedTemplates:
    """Databases migrated once per test process and copied for each test that wants a migrated
    one: every test still gets a database of its own, without running every migration again
    (on PostgreSQL, creating and migrating a database costs seconds; a copy a fraction)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sqlite: Path | None = None
        self.postgres: str | None = None

    def sqlite_copy(self, target: Path) -> None:
        if self.sqlite is None:
            path = self.root / "template.db"
            db = make_database(f"sqlite:///{path}")
            upgrade(db.engine)
            with db.engine.connect() as conn:  # everything into the main file
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.dispose()
            self.sqlite = path
        shutil.copyfile(self.sqlite, target)

    def postgres_template(self, admin: Any) -> str:
        if self.postgres is None:
            name = f"code_template_{secrets.token_hex(6)}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            db = make_database(_postgres_url(name))
            upgrade(db.engine)
            db.dispose()  # a template must have no connections
            self.postgres = name
        return self.postgres

    def drop(self) -> None:
        if self.postgres is not None:
            admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.postgres}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop()


def _postgres_url(name: str) -> str:
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


def _postgres_database(templates: MigratedTemplates | None) -> Iterator[str]:
    if not POSTGRES_URL:
        missing("postgres", "CODE_TEST_POSTGRES_URL is not set")
    name = f"code_test_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy = ""
            if templates is not None:
                copy = f' TEMPLATE "{templates.postgres_template(admin)}"'
                if (conn.dialect.server_version_info or (0,)) >= (15,):
                    copy += " STRATEGY FILE_COPY"  # faster than WAL_LOG for a small database
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    except Exception as exc:
        if required("postgres"):
            raise
        missing("postgres", f"PostgreSQL unreachable: {exc}")
    yield _postgres_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[str]:
    """One fresh database per test, on SQLite and on PostgreSQL: empty, or already migrated
    (a copy of a migrated template) when the test also uses the `database` fixture."""
    templates = migrated_templates if "database" in request.fixturenames else None
    if request.param == "sqlite":
        if templates is not None:
            templates.sqlite_copy(tmp_path / "code.db")
        yield f"sqlite:///{tmp_path / 'code.db'}"
    else:
        yield from _postgres_database(templates)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'code.db'}"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = make_database(database_url)
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(env="dev", data_dir=data_dir, database_url=database_url)


@pytest.fixture
def client(settings: Settings, database: Database, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock, database=database, migrate=False)
    with TestClient(app) as test_client:
        yield test_client


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token(client: TestClient) -> TokenFactory:
    """`make_token("admin")`, `make_token("deployer:staging", name="ci")`."""
    runtime = runtime_of(client.app)  # type: ignore[arg-type]

    def factory(*roles: str, name: str = "tester", ttl: int = 600) -> str:
        bindings = frozenset(Binding.parse(r) for r in roles)
        # A token is honoured only while its principal exists and holds its roles.
        ensure_principal(runtime.db, name, bindings)
        return runtime.tokens.issue(name, "client", bindings, ttl).access_token

    return factory


@pytest.fixture
def admin_headers(make_token: TokenFactory) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token('admin')}"}
