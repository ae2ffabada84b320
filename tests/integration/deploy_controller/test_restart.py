"""`POST /api/v1/deployments/restart`: queued on the serving deployment, taken by the
environment's controller once (against the in-memory target), refused during a rollout."""

from __future__ import annotations

from starlette.testclient import TestClient
from tests.conftest import FrozenClock

from code_engine.store.engine import Database
from code_engine.testing import FakeTargets
from code_engine.worker import Worker

from .conftest import Repo
from .test_api import deploy, release
from .test_controller_fakes import first, targets, worker

__all__ = ["targets", "worker"]  # the fixtures of the fake-target tests


def test_a_restart_is_taken_once_by_the_controller(
    client: TestClient,
    admin_headers: dict[str, str],
    shop: Repo,
    database: Database,
    clock: FrozenClock,
    worker: Worker,
    targets: FakeTargets,
) -> None:
    body = {"service": "shop", "environment": "staging"}
    nothing = client.post("/api/v1/deployments/restart", json=body, headers=admin_headers)
    assert nothing.status_code == 409 and "codectl deploy first" in nothing.text

    first(client, admin_headers, worker, clock, database)
    asked = client.post("/api/v1/deployments/restart", json=body, headers=admin_headers)
    assert asked.status_code == 202, asked.text
    assert asked.json()["version"] == "1.0.0"
    target = targets.opened["shop/staging"]
    worker.tick()
    worker.tick()
    assert target.log.count("restart 1.0.0") == 1
    events = client.get(
        "/api/v1/audit", params={"action": "deployment.restart"}, headers=admin_headers
    ).json()["items"]
    assert len(events) == 1 and events[0]["resource"].startswith("service/shop/env/staging/")

    shop.commit("feat: second")
    release(client, admin_headers, "1.1.0")
    assert deploy(client, admin_headers, "staging").status_code == 201
    busy = client.post("/api/v1/deployments/restart", json=body, headers=admin_headers)
    assert busy.status_code == 409 and "restart after it ends" in busy.text
