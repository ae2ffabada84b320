"""`codectl status` says so when no restorable point is younger than the RPO."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from code_engine.api.app import runtime_of
from code_engine.cli import client as cli_client
from code_engine.cli.main import run
from code_engine.dr import DrContext, backup, load_config

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_status_shows_an_rpo_breach(
    client: TestClient,
    make_token: Any,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        return client.request(method, url.removeprefix("http://code.test"), **kwargs)

    monkeypatch.setattr(cli_client.httpx, "request", request)
    monkeypatch.setenv("CODE_SERVER", "http://code.test")
    monkeypatch.setenv("CODE_TOKEN", make_token("viewer"))
    client.post("/api/v1/services", json={"name": "shop"}, headers=admin_headers)

    def status(*args: str) -> tuple[str, str]:
        capsys.readouterr()
        try:
            run(["status", "--service", "shop", *args])
        except SystemExit as exc:
            assert not exc.code
        captured = capsys.readouterr()
        return captured.out, captured.err

    out, _ = status()
    assert "recovery: no restorable point younger than the RPO of 1 h" in out
    assert "code-database (never)" in out
    _, err = status("-o", "json")
    assert "no restorable point" in err

    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    ctx = DrContext(load_config(runtime.settings), db=runtime.db, clock=runtime.clock)
    backup(ctx)
    out, _ = status()
    assert "recovery" not in out
