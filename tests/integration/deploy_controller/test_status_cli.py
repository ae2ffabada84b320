"""`codectl status [--watch]`, `codectl watch ENV` and `history` tables of 80 columns,
against the in-process app; rollouts run by a worker on an in-memory target."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from code_engine.cli import client as cli_client
from code_engine.cli.main import run
from code_engine.store.engine import Database
from code_engine.testing import FakeTargets
from code_engine.worker import Worker, WorkerConfig

from .conftest import Repo
from .test_api import deploy, release

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
H = dict[str, str]


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


Codectl = Callable[..., Result]


@pytest.fixture
def codectl(
    client: TestClient,
    admin_headers: H,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> Codectl:
    """`codectl("status")` run in an empty directory; HTTP goes to the in-process app."""

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        return client.request(method, url.removeprefix("http://code.test"), **kwargs)

    monkeypatch.setattr(cli_client.httpx, "request", request)
    monkeypatch.setenv("CODE_SERVER", "http://code.test")
    monkeypatch.setenv("CODE_TOKEN", admin_headers["Authorization"].removeprefix("Bearer "))
    monkeypatch.setenv("COLUMNS", "80")
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)

    def codectl(*args: str) -> Result:
        capsys.readouterr()
        try:
            run(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        lines = [line for line in captured.out.splitlines() if "[info" not in line]
        return Result(code, "\n".join(lines), captured.err)

    return codectl


@pytest.fixture
def running_worker(database: Database, data_dir: Path) -> Iterator[FakeTargets]:
    """A worker on its own thread, driving rollouts on in-memory targets."""
    targets = FakeTargets()
    worker = Worker(
        database, WorkerConfig(data_dir=data_dir, poll=0.05), targets={"local": targets}
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    yield targets
    stop.set()
    thread.join(10)


def test_status_shows_every_service_when_the_local_one_is_not_registered(
    codectl: Codectl, client: TestClient, admin_headers: H, shop: Repo
) -> None:
    assert codectl("status").exit_code == 0  # no code.yaml here: every service
    Path("code.yaml").write_text(
        "service: code-engine\nrepo: .\nenvironments:\n"
        "  - name: dev\n    target: {kind: local, command: 'x --port {port}'}\n"
    )
    result = codectl("status")
    assert result.exit_code == 0, result.stderr
    assert "shop" in result.stdout and "staging" in result.stdout
    assert "names 'code-engine', which the server does not know" in result.stderr
    assert "showing every service it knows (shop)" in result.stderr


def test_status_without_any_service_says_how_to_register_one(codectl: Codectl) -> None:
    result = codectl("status")
    assert result.exit_code == 2
    assert "the server knows no service yet" in result.stderr


def test_watch_follows_the_rollout_in_progress_to_its_end(
    codectl: Codectl,
    client: TestClient,
    admin_headers: H,
    shop: Repo,
    running_worker: FakeTargets,
) -> None:
    quiet = codectl("watch", "staging", "--service", "shop")
    assert quiet.exit_code == 0
    assert "nothing is rolling out in staging: nothing serves" in quiet.stderr
    release(client, admin_headers, "1.0.0")
    assert deploy(client, admin_headers, "staging").status_code == 201
    followed = codectl("watch", "staging", "--service", "shop")
    assert followed.exit_code == 0, followed.stderr
    assert "succeeded" in followed.stdout
    live = codectl("status", "--watch", "--service", "shop")
    assert live.exit_code == 0
    assert "1.0.0" in live.stdout and "fake://shop/staging" in live.stdout


def test_tables_fit_80_columns_and_wide_shows_every_column(
    codectl: Codectl, client: TestClient, admin_headers: H, shop: Repo
) -> None:
    release(client, admin_headers, "1.0.0")
    body = {"message": "a long message " * 8}
    response = client.post(
        "/api/v1/deployments",
        json={"service": "shop", "environment": "staging", "run": True, **body},
        headers=admin_headers,
    )
    assert response.status_code == 201
    narrow = codectl("history", "staging", "--service", "shop")
    assert narrow.exit_code == 0
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80, narrow.stdout
    assert "created by" not in narrow.stdout
    wide = codectl("history", "staging", "--service", "shop", "-o", "wide")
    assert "created by" in wide.stdout
    assert body["message"].strip() in wide.stdout
