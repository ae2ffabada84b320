"""`codectl approve|reject` and what deploy, status and history show of approvals, against
the in-process app, as two people."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from code_engine.cli import client as cli_client
from code_engine.cli.main import run

from .conftest import Repo
from .test_approvals import SPEC, finish

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


Codectl = Callable[..., Result]


@pytest.fixture
def codectl(
    client: TestClient,
    make_token: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Codectl:
    """`codectl("alice", "deploy", "prod")`: the command as that person (a deployer of prod),
    through codectl's error boundary; its HTTP calls go to the in-process app."""

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        return client.request(method, url.removeprefix("http://code.test"), **kwargs)

    monkeypatch.setattr(cli_client.httpx, "request", request)
    monkeypatch.setenv("CODE_SERVER", "http://code.test")
    tokens = {name: make_token("deployer:prod", name=name) for name in ("alice", "bob")}

    def codectl(person: str, *args: str) -> Result:
        monkeypatch.setenv("CODE_TOKEN", tokens[person])
        capsys.readouterr()
        try:
            run([*args, "--service", "shop"])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return codectl


@pytest.fixture
def shop(client: TestClient, admin_headers: dict[str, str], repo: Repo) -> Repo:
    repo.commit("feat: first", SPEC)
    body = {"name": "shop", "repo": str(repo.path)}
    assert client.post("/api/v1/services", json=body, headers=admin_headers).status_code == 201
    body = {"service": "shop", "version": "1.0.0"}
    assert client.post("/api/v1/releases", json=body, headers=admin_headers).status_code == 201
    return repo


def _json(result: Result) -> Any:
    # the in-process app's request log shares stdout here: the document starts at "{" or "["
    # and log lines of later requests (the status command's recovery look) may follow it
    out = result.stdout
    start = min(i for i in (out.find("{\n"), out.find("[\n")) if i >= 0)
    document, _ = json.JSONDecoder().raw_decode(out, start)
    return document


def test_approve_and_reject_from_the_command_line(
    codectl: Codectl, shop: Repo, client: TestClient, admin_headers: dict[str, str], database: Any
) -> None:
    nothing = codectl("bob", "approve", "prod")
    assert nothing.exit_code == 2 and "no deployment awaits approval in prod" in nothing.stderr

    asked = codectl("alice", "deploy", "prod", "--watch", "-o", "json")
    assert asked.exit_code == 0, asked.output
    waiting = _json(asked)
    assert waiting["status"] == "awaiting_approval"  # --watch does not wait for a person
    assert "awaits approval: another deployer of prod runs codectl approve prod" in asked.stderr
    status = _json(codectl("alice", "status", "prod", "-o", "json"))
    assert status[0]["active"]["status"] == "awaiting_approval"
    table = codectl("alice", "status", "prod")
    assert "awaiting_approval" in table.stdout and "awaiting approval by a" in table.stdout
    paused = codectl("alice", "pause", "prod")
    assert paused.exit_code == 2 and "awaiting approval" in paused.stderr

    own = codectl("alice", "approve", "prod")
    assert own.exit_code == 2
    assert "a second person must approve it" in own.stderr
    approved = codectl("bob", "approve", "prod", "--comment", "ship it", "-o", "json")
    assert approved.exit_code == 0, approved.output
    assert (_json(approved)["status"], _json(approved)["reviewed_by"]) == ("pending", "bob")
    late = codectl("bob", "reject", "prod")
    assert late.exit_code == 2
    assert "is pending, not awaiting approval: nothing to reject" in late.stderr
    finish(database, waiting["id"])

    shop.commit("feat: second", SPEC)
    body = {"service": "shop", "version": "1.1.0"}
    assert client.post("/api/v1/releases", json=body, headers=admin_headers).status_code == 201
    assert codectl("alice", "deploy", "prod").exit_code == 0
    rejected = codectl("bob", "reject", "prod", "-m", "freeze until Monday")
    assert rejected.exit_code == 0, rejected.output
    assert "rejected" in rejected.stdout

    history = _json(codectl("alice", "history", "prod", "-o", "json"))
    assert [(d["version"], d["status"], d["reviewed_by"]) for d in history] == [
        ("1.1.0", "rejected", "bob"),
        ("1.0.0", "succeeded", "bob"),
    ]
    assert history[0]["message"] == "rejected by bob: freeze until Monday"
    shown = codectl("alice", "history", "prod")
    assert shown.exit_code == 0 and "bob" in shown.stdout.split("request_id")[-1]
