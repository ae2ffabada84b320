"""`codectl dora` against the app: show, import-git, grafana-dashboard, seed-demo."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from code_engine.cli import client as cli_client
from code_engine.cli import dora_cmd

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """codectl"""

    dora_cmd.register(app)
    return app


@pytest.fixture
def cli(client: TestClient, admin_headers, monkeypatch: pytest.MonkeyPatch):
    """Runs `codectl dora ...`; the CLI's HTTP calls go to the in-process app."""

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        path = url.removeprefix("http://code.test")
        return client.request(method, path, **kwargs)

    monkeypatch.setattr(cli_client.httpx, "request", request)
    monkeypatch.setenv("CODE_SERVER", "http://code.test")
    monkeypatch.setenv("CODE_TOKEN", admin_headers["Authorization"].split()[1])
    runner = CliRunner()
    return lambda *args: runner.invoke(_app(), ["dora", *args], catch_exceptions=False)


def _repo(path: Path) -> list[str]:
    path.mkdir()

    def run(*a):
        return subprocess.run(
            ["git", "-C", str(path), *a],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    run("init", "-q", "-b", "main")
    for n in range(3):
        (path / "f").write_text(str(n))
        run("add", "f")
        run("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", f"feat: {n}")
    return run("rev-list", "HEAD").split()


def test_import_git_then_show(cli, client: TestClient, admin_headers, tmp_path: Path) -> None:
    client.post("/api/v1/services", json={"name": "shop"}, headers=admin_headers)
    shas = _repo(tmp_path / "shop")
    first = cli("import-git", str(tmp_path / "shop"), "--batch", "2")
    assert first.exit_code == 0, first.output
    assert "3 commits of shop: 3 new, 0 updated, 0 unchanged" in first.output
    assert "0 new, 0 updated, 3 unchanged" in cli("import-git", str(tmp_path / "shop")).output
    changes = client.get("/api/v1/changes", headers=admin_headers).json()["items"]
    assert sorted(c["sha"] for c in changes) == sorted(shas)
    shown = cli("--window", "7d", "--output", "json")
    assert shown.exit_code == 0, shown.output
    # the in-process app's request log shares stdout here: the document starts at "{"
    [service] = json.loads(shown.stdout[shown.stdout.index("{\n") :])["services"]
    assert service["service"] == "shop" and len(service["trend"]) == 1
    table = cli("--service", "shop")
    assert "Deployment" in table.output and "no data" in table.output


def test_bad_window_is_refused(cli) -> None:
    with pytest.raises(Exception, match="--window"):
        cli("--window", "a month")


def test_grafana_dashboard_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "dora.json"
    assert cli("grafana-dashboard", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text())["uid"] == "code-dora"


def test_seed_demo_fills_the_data_dir(cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODE_DATA_DIR", str(tmp_path / "demo-data"))
    result = cli("seed-demo", "--days", "14")
    assert result.exit_code == 0, result.output
    assert "demo-shop:" in result.output and (tmp_path / "demo-data" / "code.db").exists()
