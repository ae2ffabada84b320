"""Between rollouts the worker re-asserts what the last succeeded deployment left: a real
hello instance, a real builtin router process, and a router that lost its routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from code_engine.catalog.store import EnvironmentDraft, create_service, list_environments
from code_engine.clock import Clock
from code_engine.deploy import store
from code_engine.deploy.local import LaunchSpec, Supervisor
from code_engine.deploy.local.ports import free_port
from code_engine.deploy.plan import Launch, RouterPlan
from code_engine.deploy.router import BuiltinRouter, RouterLaunch, stop_router
from code_engine.store.engine import Database
from code_engine.worker import Worker, WorkerConfig

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"
COMMAND = "{python} -m uvicorn app:app --host {host} --port {port} --log-level warning"


@pytest.fixture
def served(database: Database, data_dir: Path, clock: Clock) -> Iterator[tuple[int, Supervisor]]:
    """`shop` in prod: a succeeded deployment of v1, its instance running; the router port."""
    port = free_port()
    supervisor = Supervisor("shop", "prod", data_dir)
    supervisor.start(LaunchSpec("v1", COMMAND, cwd=HELLO, env={"HELLO_VERSION": "v1"}))
    launch = Launch("v1", "abc", str(HELLO), COMMAND)
    with database.session() as session:
        service = create_service(session, "shop", "", "", [EnvironmentDraft("prod")], clock())
        [env] = list_environments(session, service.id)
        state = {"launch": {"v1": launch.to_dict()}, "router": RouterPlan(port=port).to_dict()}
        store.record_deployment(
            session,
            store.DeploymentRecord(
                service_id=service.id,
                environment_id=env.id,
                version="v1",
                status="succeeded",
                created_at=clock(),
                finished_at=clock(),
                state=state,
            ),
        )
    yield port, supervisor
    supervisor.stop_all(grace=5)
    router = BuiltinRouter(RouterLaunch.for_environment(data_dir, "shop", "prod", port).control)
    if router.ping():
        stop_router(router, timeout=5)
    router.close()


def _events(logs: list[dict[str, object]], name: str) -> list[dict[str, object]]:
    return [entry for entry in logs if entry["event"] == name]


def test_the_worker_gives_a_router_the_routes_of_the_last_deployment(
    database: Database, data_dir: Path, clock: Clock, served: tuple[int, Supervisor]
) -> None:
    port, _ = served
    worker = Worker(database, WorkerConfig(data_dir=data_dir, reassert_interval=0.0), clock)
    url = f"http://127.0.0.1:{port}/"
    try:
        with capture_logs() as logs:
            worker.tick()  # starts the router, which has no routes: they are given
        assert httpx.get(url, timeout=10).json()["version"] == "v1"
        [event] = _events(logs, "router_reasserted")
        assert event["repaired"] == ["backends", "weights"]
        assert (event["service"], event["environment"], event["version"]) == ("shop", "prod", "v1")
        with capture_logs() as logs:
            worker.tick()  # nothing to repair: nothing logged
        assert _events(logs, "router_reasserted") == []
        router = BuiltinRouter(RouterLaunch.for_environment(data_dir, "shop", "prod", port).control)
        router.set_weights({})
        router.set_preview("v1")
        with capture_logs() as logs:
            worker.tick()
        assert httpx.get(url, timeout=10).json()["version"] == "v1"
        assert router.get_preview() is None
        [event] = _events(logs, "router_reasserted")
        assert event["repaired"] == ["weights", "preview"]
        router.close()
    finally:
        worker.close()


def test_a_router_that_cannot_be_repaired_is_logged(
    database: Database, data_dir: Path, clock: Clock, served: tuple[int, Supervisor]
) -> None:
    _, supervisor = served
    supervisor.stop_all(grace=5)  # no instance of v1 to route to
    worker = Worker(database, WorkerConfig(data_dir=data_dir, reassert_interval=60.0), clock)
    try:
        with capture_logs() as logs:
            worker.tick()
            worker.tick()  # not due again for a minute
        [event] = _events(logs, "router_reassert_failed")
        assert "has weight 100 but no backends" in str(event["error"])
    finally:
        worker.close()
