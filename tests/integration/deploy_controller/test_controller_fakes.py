"""The controller's behaviour against an in-memory target: rollouts, rollbacks, orphans and
the target registry, without a process or a router (the real target has its own tests)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.conftest import FrozenClock

from code_engine.store.engine import Database
from code_engine.store.tables import DeploymentRow
from code_engine.testing import FakeTargets, Traffic
from code_engine.worker import Worker, WorkerConfig

from .conftest import Repo
from .test_api import deploy, release

H = dict[str, str]


def status_of(database: Database, deployment_id: int) -> DeploymentRow:
    with database.session() as session:
        row = session.get(DeploymentRow, deployment_id)
        assert row is not None
        session.expunge(row)
        return row


def run(
    worker: Worker, clock: FrozenClock, database: Database, deployment_id: int, ticks: int = 60
) -> DeploymentRow:
    """Tick (one second of the clock each) until the deployment ends."""
    for _ in range(ticks):
        worker.tick()
        row = status_of(database, deployment_id)
        if row.status in ("succeeded", "failed", "rolled_back"):
            worker.tick()  # its drain and stop, and the reconciliation after it
            return row
        clock.now += timedelta(seconds=1)
    pytest.fail(f"deployment {deployment_id} still {row.status} after {ticks} ticks")


@pytest.fixture
def targets() -> FakeTargets:
    return FakeTargets()


@pytest.fixture
def worker(database: Database, data_dir: Path, clock: FrozenClock, targets: FakeTargets) -> Worker:
    config = WorkerConfig(data_dir=data_dir, reassert_interval=0.0)
    return Worker(database, config, clock, owner="test:1:1", targets={"local": targets})


def first(client: TestClient, headers: H, worker: Worker, clock: FrozenClock, db: Database) -> None:
    release(client, headers, "1.0.0")
    done = run(worker, clock, db, deploy(client, headers, "staging").json()["id"])
    assert done.status == "succeeded", done.message


def test_a_canary_is_weighed_measured_and_promoted(
    client: TestClient,
    admin_headers: H,
    shop: Repo,
    database: Database,
    clock: FrozenClock,
    worker: Worker,
    targets: FakeTargets,
) -> None:
    first(client, admin_headers, worker, clock, database)
    target = targets.opened["shop/staging"]
    assert target.weights == {"1.0.0": 100}
    shop.commit("feat: second")
    release(client, admin_headers, "1.1.0")
    done = run(worker, clock, database, deploy(client, admin_headers, "staging").json()["id"])
    assert done.status == "succeeded", done.message
    assert target.log[2:] == [
        "start 1.1.0",
        "weigh 1.0.0=75 1.1.0=25",
        "weigh 1.0.0=0 1.1.0=100",
        "stop 1.0.0",
        "orphan 1.0.0",  # its weight-0 entry, once the rollout is over
    ]
    assert target.running.keys() == {"1.1.0"}
    assert target.weights == {"1.1.0": 100}
    assert [m["verdict"] for m in done.state["measurements"]] == ["pass", "pass"]


def test_a_canary_breaking_the_slos_is_rolled_back(
    client: TestClient,
    admin_headers: H,
    shop: Repo,
    database: Database,
    clock: FrozenClock,
    worker: Worker,
    targets: FakeTargets,
) -> None:
    targets.traffic["1.1.0"] = Traffic(requests=1000, errors=100)
    first(client, admin_headers, worker, clock, database)
    shop.commit("feat: second")
    release(client, admin_headers, "1.1.0")
    done = run(worker, clock, database, deploy(client, admin_headers, "staging").json()["id"])
    assert done.status == "rolled_back"
    assert "error rate" in done.message
    target = targets.opened["shop/staging"]
    assert target.weights == {"1.0.0": 100}
    assert target.running.keys() == {"1.0.0"}


def test_what_no_deployment_owns_is_stopped_at_start_and_after_a_rollout(
    client: TestClient,
    admin_headers: H,
    shop: Repo,
    database: Database,
    clock: FrozenClock,
    worker: Worker,
    targets: FakeTargets,
    data_dir: Path,
) -> None:
    first(client, admin_headers, worker, clock, database)
    target = targets.opened["shop/staging"]
    # left by a worker killed between a start and its record: a process and a weight-0 entry
    worker.close()
    target.running["0.9.0"] = target.running["1.0.0"]
    target.weights["0.8.0"] = 0
    restarted = Worker(
        database,
        WorkerConfig(data_dir=data_dir, reassert_interval=60.0),
        clock,
        owner="test:2:2",
        targets={"local": targets},
    )
    restarted.tick()
    assert target.running.keys() == {"1.0.0"}
    assert target.weights == {"1.0.0": 100}
    assert target.log[-2:] == ["orphan 0.8.0", "orphan 0.9.0"]
    # a stray that shows up during a rollout goes once the rollout is over
    shop.commit("feat: second")
    release(client, admin_headers, "1.1.0")
    deployment_id = deploy(client, admin_headers, "staging").json()["id"]
    restarted.tick()
    target.running["0.7.0"] = target.running["1.0.0"]
    done = run(restarted, clock, database, deployment_id)
    assert done.status == "succeeded"
    assert target.running.keys() == {"1.1.0"}
    assert "orphan 0.7.0" in target.log


def test_a_target_kind_the_worker_does_not_have_is_named_on_the_deployment(
    client: TestClient,
    admin_headers: H,
    shop: Repo,
    database: Database,
    clock: FrozenClock,
    data_dir: Path,
) -> None:
    worker = Worker(database, WorkerConfig(data_dir=data_dir), clock, owner="test:3:3", targets={})
    release(client, admin_headers, "1.0.0")
    deployment_id = deploy(client, admin_headers, "staging").json()["id"]
    worker.tick()
    row = status_of(database, deployment_id)
    assert row.status == "pending"
    assert row.message == "cannot run shop/staging: no target of kind 'local' in this worker"
