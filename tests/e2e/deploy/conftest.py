"""Fixtures of the delivery end-to-end tests: one engine (server and worker processes) for
the suite, on PostgreSQL when CODE_TEST_POSTGRES_URL is set; a new service (repository,
environment, router port) per test.

Without PostgreSQL the engine runs on SQLite with a warning in the summary; with
CODE_TEST_REQUIRE_POSTGRES=1 (set by CI) a missing or unreachable server fails instead."""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.support.components import missing, required

from .harness import Engine, ServiceRepo

POSTGRES_URL = os.environ.get("CODE_TEST_POSTGRES_URL", "")
_names = count(1)


def _database(root: Path) -> Iterator[str]:
    if not POSTGRES_URL:
        if required("postgres"):
            missing("postgres", "CODE_TEST_POSTGRES_URL is not set")
        warnings.warn(
            "the end-to-end engine runs on SQLite: set CODE_TEST_POSTGRES_URL to test it on "
            "PostgreSQL, as production runs",
            stacklevel=1,
        )
        yield f"sqlite:///{root / 'code.db'}"
        return
    name = f"code_e2e_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("engine")
    for url in _database(root):
        running = Engine(root, url)
        try:
            running.start()
            yield running
        finally:
            running.stop()


@pytest.fixture
def service(engine: Engine, tmp_path: Path) -> ServiceRepo:
    """A new service (own repository, environment, router port) registered on the engine."""
    repo = ServiceRepo(tmp_path / "repo", f"hello{next(_names)}")
    repo.create(engine)
    return repo
