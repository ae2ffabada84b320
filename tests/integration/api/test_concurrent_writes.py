"""Writes under real concurrency: a real HTTP server, parallel and back-to-back deliveries.

Every write is committed before its response leaves, and a race on a unique key ends in
the row both writers meant, never in a 5xx, a lost row or a duplicate. Each door that
writes a change, a deployment or an incident is exercised on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from code_engine.api import create_app
from code_engine.api.app import runtime_of
from code_engine.auth.principals import ensure_principal
from code_engine.auth.roles import Binding
from code_engine.dora.github import signature
from code_engine.settings import Settings
from code_engine.store.engine import Database
from code_engine.store.tables import ChangeRow, DeploymentRow, IncidentRow

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dora"
SECRET = "whsec-concurrency"  # pragma: allowlist secret
N = 8


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        env="dev", data_dir=data_dir, database_url=database_url, github_webhook_secret=SECRET
    )


class Server:
    """The API served by uvicorn on a free loopback port, in a thread of this process."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.app = create_app(settings, database=database, migrate=False)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def start(self) -> None:
        self.thread.start()
        with httpx.Client(base_url=self.url) as client:
            for _ in range(500):
                if self.server.started:
                    break
                threading.Event().wait(0.02)
            assert client.get("/healthz").status_code == 200

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

    def token(self) -> str:
        runtime = runtime_of(self.app)
        bindings = frozenset({Binding.parse("admin")})
        ensure_principal(runtime.db, "tester", bindings)  # a token needs a live principal
        return runtime.tokens.issue("tester", "client", bindings, 600).access_token


@pytest.fixture
def server(settings: Settings, database: Database) -> Iterator[Server]:
    live = Server(settings, database)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.token()}"}
    limits = httpx.Limits(max_connections=N * 2)
    with httpx.Client(base_url=server.url, headers=headers, timeout=60, limits=limits) as client:
        assert client.post("/api/v1/services", json={"name": "checkout-api"}).status_code == 201
        yield client


Send = Callable[[int], httpx.Response]


def parallel(send: Send, count: int = N) -> list[httpx.Response]:
    """`count` requests released together through a barrier."""
    barrier = threading.Barrier(count)

    def one(index: int) -> httpx.Response:
        barrier.wait()
        return send(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def back_to_back(send: Send, count: int = N) -> list[httpx.Response]:
    return [send(index) for index in range(count)]


def ok(responses: list[httpx.Response]) -> list[dict[str, Any]]:
    errors = [(r.status_code, r.text) for r in responses if r.status_code >= 300]
    assert errors == []
    return [r.json() for r in responses]


def count(database: Database, table: type[Any]) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def github_delivery(client: httpx.Client, deployment_id: int) -> httpx.Response:
    payload = json.loads((FIXTURES / "github_deployment_status.json").read_text())
    payload["deployment"]["id"] = deployment_id
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "deployment_status",
        "X-Hub-Signature-256": signature(SECRET.encode(), body),
    }
    return client.post("/api/v1/webhooks/github", content=body, headers=headers)


def alert(client: httpx.Client, fingerprint: str) -> httpx.Response:
    payload = json.loads((FIXTURES / "alertmanager_firing.json").read_text())
    payload["alerts"] = [copy.deepcopy(payload["alerts"][0])]
    payload["alerts"][0]["fingerprint"] = fingerprint
    return client.post("/api/v1/webhooks/alertmanager", json=payload)


def batch(client: httpx.Client, n: int) -> httpx.Response:
    sha = f"{n:040x}"
    events = [
        {
            "type": "commit",
            "id": sha,
            "service": "checkout-api",
            "message": "feat: one",
            "authored_at": "2026-11-01T08:00:00Z",
            "committed_at": "2026-11-01T08:10:00Z",
        },
        {
            "type": "deployment",
            "id": f"deploy-{n}",
            "service": "checkout-api",
            "environment": "prod",
            "status": "succeeded",
            "started_at": "2026-11-02T09:00:00Z",
            "finished_at": "2026-11-02T09:05:00Z",
            "commits": [sha],
        },
        {
            "type": "incident",
            "id": f"inc-{n}",
            "service": "checkout-api",
            "environment": "prod",
            "opened_at": "2026-11-02T10:00:00Z",
            "title": "errors",
            "deployment_id": f"deploy-{n}",
        },
    ]
    return client.post("/api/v1/events", json={"events": events})


def created(bodies: list[dict[str, Any]], kind: str) -> int:
    return sum(body["created"][kind] for body in bodies)


@pytest.mark.parametrize("deliver", [parallel, back_to_back])
def test_the_same_github_delivery_makes_one_deployment(
    http: httpx.Client, database: Database, deliver: Callable[[Send], list[httpx.Response]]
) -> None:
    bodies = ok(deliver(lambda _: github_delivery(http, 1873442210)))
    assert created(bodies, "deployment") == 1
    assert count(database, DeploymentRow) == 1


def test_different_github_deliveries_each_make_one(http: httpx.Client, database: Database) -> None:
    bodies = ok(parallel(lambda n: github_delivery(http, 1000 + n)))
    assert created(bodies, "deployment") == N
    assert count(database, DeploymentRow) == N


@pytest.mark.parametrize("deliver", [parallel, back_to_back])
def test_the_same_alert_opens_one_incident(
    http: httpx.Client, database: Database, deliver: Callable[[Send], list[httpx.Response]]
) -> None:
    bodies = ok(deliver(lambda _: alert(http, "5e8c0b6a1d2f3e47")))
    assert created(bodies, "incident") == 1
    assert count(database, IncidentRow) == 1


def test_different_alerts_open_one_incident_each(http: httpx.Client, database: Database) -> None:
    bodies = ok(parallel(lambda n: alert(http, f"fp{n:014x}")))
    assert created(bodies, "incident") == N
    assert count(database, IncidentRow) == N


@pytest.mark.parametrize("deliver", [parallel, back_to_back])
def test_the_same_batch_is_stored_once(
    http: httpx.Client, database: Database, deliver: Callable[[Send], list[httpx.Response]]
) -> None:
    bodies = ok(deliver(lambda _: batch(http, 1)))
    for kind in ("commit", "deployment", "incident"):
        assert created(bodies, kind) == 1, kind
    assert sum(b["unchanged"]["deployment"] for b in bodies) == N - 1
    assert [count(database, t) for t in (ChangeRow, DeploymentRow, IncidentRow)] == [1, 1, 1]
    [incident] = http.get("/api/v1/incidents").json()["items"]
    assert incident["deployment_id"] is not None


def test_different_batches_are_all_stored(http: httpx.Client, database: Database) -> None:
    ok(parallel(lambda n: batch(http, n)))
    assert [count(database, t) for t in (ChangeRow, DeploymentRow, IncidentRow)] == [N, N, N]


def test_the_same_records_through_the_resource_routes(
    http: httpx.Client, database: Database
) -> None:
    change = {
        "service": "checkout-api",
        "sha": "c" * 40,
        "message": "fix: x",
        "authored_at": "2026-11-01T08:00:00Z",
        "committed_at": "2026-11-01T08:10:00Z",
    }
    deployment = {
        "service": "checkout-api",
        "environment": "prod",
        "version": "1.0.0",
        "external_id": "ext-1",
        "started_at": "2026-11-02T09:00:00Z",
        "finished_at": "2026-11-02T09:05:00Z",
        "commits": ["c" * 40],
    }
    incident = {
        "service": "checkout-api",
        "environment": "prod",
        "title": "down",
        "external_id": "pager-1",
        "opened_at": "2026-11-02T10:00:00Z",
    }
    ok(parallel(lambda _: http.post("/api/v1/changes", json=change)))
    ok(parallel(lambda _: http.post("/api/v1/deployments", json=deployment)))
    ok(parallel(lambda _: http.post("/api/v1/incidents", json=incident)))
    assert [count(database, t) for t in (ChangeRow, DeploymentRow, IncidentRow)] == [1, 1, 1]


def test_a_read_right_after_a_201_sees_the_row(http: httpx.Client) -> None:
    def open_and_read(n: int) -> httpx.Response:
        body = {"service": "checkout-api", "title": f"incident {n}", "environment": "prod"}
        opened = http.post("/api/v1/incidents", json=body)
        assert opened.status_code == 201, opened.text
        return http.get(f"/api/v1/incidents/{opened.json()['id']}")

    assert len(ok(parallel(open_and_read) + back_to_back(open_and_read))) == 2 * N


def test_commits_and_the_deployments_that_deliver_them_at_once(
    http: httpx.Client, database: Database
) -> None:
    """Commits and deployments sharing them, written at the same time by other requests."""
    shas = [f"{n:040x}" for n in range(N)]

    def send(n: int) -> httpx.Response:
        if n % 2:
            events = [batch_event("commit", sha) for sha in reversed(shas)]
        else:
            events = [batch_event("deployment", f"shared-{n}", commits=shas)]
        return http.post("/api/v1/events", json={"events": events})

    ok(parallel(send) + parallel(send))
    assert [count(database, t) for t in (ChangeRow, DeploymentRow)] == [N, N // 2]
    window = {"from": "2026-10-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
    shown = http.get("/api/v1/metrics/dora", params={**window, "service": "checkout-api"})
    lead = ok([shown])[0]["services"][0]["metrics"]["lead_time"]["details"]
    assert (lead["commits"], lead["unmatched_commits"]) == (N, 0)


def batch_event(kind: str, ident: str, commits: list[str] | None = None) -> dict[str, Any]:
    if kind == "commit":
        return {
            "type": "commit",
            "id": ident,
            "service": "checkout-api",
            "message": "feat: x",
            "authored_at": "2026-11-01T08:00:00Z",
            "committed_at": "2026-11-01T08:10:00Z",
        }
    return {
        "type": "deployment",
        "id": ident,
        "service": "checkout-api",
        "environment": "prod",
        "status": "succeeded",
        "started_at": "2026-11-02T09:00:00Z",
        "finished_at": "2026-11-02T09:05:00Z",
        "commits": commits or [],
    }
