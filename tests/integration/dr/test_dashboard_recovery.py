"""The dashboard's operations view: last backup, last drill, achieved versus objective RPO/RTO."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from code_engine.api.app import runtime_of
from code_engine.auth import principals
from code_engine.auth.roles import Binding
from code_engine.dr import DrContext, backup, drill, load_config

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_recovery_section(client: TestClient) -> None:
    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    viewer = frozenset({Binding.parse("viewer")})
    principals.create_user(runtime.db, runtime.clock, "mara", "correct horse battery", viewer)
    form = {"username": "mara", "password": "correct horse battery", "next": "/"}
    client.post("/login", data=form, follow_redirects=False)
    page = client.get("/").text
    assert 'data-rpo-breached="true"' in page and "No restore drill yet" in page
    ctx = DrContext(load_config(runtime.settings), db=runtime.db, clock=runtime.clock)
    backup(ctx)
    drill(ctx)
    page = client.get("/").text
    assert 'data-rpo-breached="false"' in page
    assert '<tr data-source="code-database">' in page
    assert "Last drill" in page and "<strong>passed</strong>" in page
