"""`codectl deploy|status|history|rollback` on a Kubernetes environment, against the in-process
app and a worker ticked by the test, as on a local one."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from tests.support.argocd import RecordedArgoCD

from code_engine.cli import client as cli_client
from code_engine.cli.main import run
from code_engine.worker import Worker

from .conftest import H, Service, release


def codectl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        run([*args, "--service", "shop"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cli(client: TestClient, make_token: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        return client.request(method, url.removeprefix("http://code.test"), **kwargs)

    monkeypatch.setattr(cli_client.httpx, "request", request)
    monkeypatch.setenv("CODE_SERVER", "http://code.test")
    monkeypatch.setenv("CODE_TOKEN", make_token("admin", name="alice"))


def test_deploy_status_history_on_kubernetes(
    cli: None,
    capsys: pytest.CaptureFixture[str],
    worker: Worker,
    argo: RecordedArgoCD,
    shop: Service,
) -> None:
    code, out, err = codectl(capsys, "deploy", "staging", "--version", "1.0.0")
    assert code == 0, err
    worker.tick()
    argo.apps["shop-staging"].state = "progressing"
    argo.apps["shop-staging"].revision = shop.remote.head()
    worker.tick()
    code, out, err = codectl(capsys, "status")
    assert code == 0, err
    assert "paused" in out
    assert "shop-staging" in out
    argo.apps["shop-staging"].state = "healthy"
    worker.tick()
    code, out, err = codectl(capsys, "history", "staging")
    assert code == 0, err
    assert "succeeded" in out
    assert "1.0.0" in out


def test_a_refused_deploy_exits_2_naming_the_file(
    cli: None,
    capsys: pytest.CaptureFixture[str],
    client: TestClient,
    admin_headers: H,
    shop: Service,
) -> None:
    shop.commit(
        "feat: a typo",
        shop.edit("deploy/k8s/base/service.yaml", "targetPort: http", "targetPrt: http"),
    )
    release(client, admin_headers, "1.1.0")
    code, out, err = codectl(capsys, "deploy", "staging", "--version", "1.1.0")
    assert code == 2, (out, err)
    assert "deploy/k8s/base/service.yaml" in err
    assert "Service/shop" in err
    assert "targetPrt" in err


def test_deploy_watch_follows_to_success(
    cli: None,
    capsys: pytest.CaptureFixture[str],
    worker: Worker,
    argo: RecordedArgoCD,
    shop: Service,
) -> None:
    """`make deploy-staging`: `codectl deploy staging --watch` with a worker running, while
    Argo CD syncs what lands on main and reports it Healthy."""
    app = argo.apps["shop-staging"]
    app.state, app.follows = "healthy", shop.remote.path
    stop = threading.Event()
    running = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    running.start()
    try:
        code, out, err = codectl(capsys, "deploy", "staging", "--version", "1.0.0", "--watch")
    finally:
        stop.set()
        running.join(timeout=30)
    assert code == 0, (out, err)
    assert "succeeded" in out + err
