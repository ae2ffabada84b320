"""Blue-green on real processes: the new version is previewed on the router's preview port,
its analysis judges the real requests sent there, and the main port never sees it before
the switch. Then, after a rollout, the worker re-asserts the routes of a router that
restarted without its state."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass, field
from typing import Any

import httpx

from code_engine.deploy.local.proc import pid_alive
from code_engine.deploy.router import BuiltinRouter, RouterLaunch, ensure_router

from .harness import Engine, Load, ServiceRepo, free_port, wait_until

PREVIEW = (
    "{kind: blue_green, scale_down_delay: 0s, analysis: {interval: 2s, count: 2, min_requests: 20}}"
)


@dataclass
class BlueGreenRepo(ServiceRepo):
    """A hello service whose `code.yaml` rolls out blue-green; `preview_port` None leaves
    the preview port to the controller."""

    preview_port: int | None = field(default_factory=free_port)

    def target_extra(self, environment: str) -> str:
        return "" if self.preview_port is None else f"\n      preview_port: {self.preview_port}"

    def strategy(self, steps: str) -> str:
        return f" {steps}"  # the whole strategy, as a flow mapping


def _repo(engine: Engine, tmp_path: Any, name: str, preview_port: bool = True) -> BlueGreenRepo:
    repo = BlueGreenRepo(tmp_path / "repo", name)
    if not preview_port:
        repo.preview_port = None
    repo.create(engine)
    return repo


def _preview_url(engine: Engine, deployment_id: int) -> str | None:
    state = engine.deployment(deployment_id)["state"]
    url = state.get("preview_url")
    return None if url is None else str(url)


def _previewing(url: str) -> str | None:
    """The version answering on the preview port, or None (503, not listening)."""
    try:
        response = httpx.get(url + "/", timeout=5)
    except httpx.HTTPError:
        return None
    return str(response.json()["version"]) if response.status_code == 200 else None


def test_a_preview_whose_analysis_passes_on_real_requests_is_switched_to(
    engine: Engine, tmp_path: Any
) -> None:
    service = _repo(engine, tmp_path, "bluegreen1")
    service.first(engine, PREVIEW)
    service.release(engine, "v2", PREVIEW)
    preview_url = f"http://127.0.0.1:{service.preview_port}"
    assert httpx.get(preview_url + "/", timeout=10).status_code == 503  # nothing previewed
    with Load(service.url) as main:
        deployment_id = service.deploy(engine, "v2")
        wait_until(lambda: _previewing(preview_url) == "v2", 120, "v2 under preview")
        assert _preview_url(engine, deployment_id) == preview_url
        with Load(preview_url) as preview:
            done = engine.wait(deployment_id)
        switched = main.total
        wait_until(lambda: main.total > switched + 20, 30, "requests after the switch")
    assert done["status"] == "succeeded", done["message"]
    measurements = done["measurements"]
    assert [m["verdict"] for m in measurements] == ["pass", "pass"]
    assert all(m["requests"] >= 20 for m in measurements), measurements
    assert set(preview.versions) == {"v2"}  # the preview port served the new version only
    assert set(preview.statuses) <= {200, 503}  # 503 once the switch cleared the preview
    assert main.lost() == 0, (main.statuses, main.failures[:5])
    assert main.versions["v1"] > 0 and main.versions["v2"] > 0  # switched under load
    assert service.serving() == "v2"
    assert httpx.get(preview_url + "/", timeout=10).status_code == 503
    assert engine.weights(service.name, service.environment) == {"v2": 100}


def test_a_preview_whose_analysis_fails_never_reaches_the_main_port(
    engine: Engine, tmp_path: Any
) -> None:
    service = _repo(engine, tmp_path, "bluegreen2", preview_port=False)  # picked and kept
    service.first(engine, PREVIEW)
    service.release(engine, "v3", PREVIEW, env={"HELLO_ERROR_RATE": "0.2"})
    with Load(service.url) as main:
        deployment_id = service.deploy(engine, "v3")
        preview_url = wait_until(lambda: _preview_url(engine, deployment_id), 120, "a preview")
        wait_until(lambda: _previewing(preview_url) == "v3", 120, "v3 under preview")
        with Load(preview_url) as preview:
            done = engine.wait(deployment_id)
    assert done["status"] == "rolled_back"
    assert done["progress"]["reason"] == "analysis failed"
    assert preview.statuses[500] > 0  # the analysis judged real failing requests
    assert set(main.versions) == {"v1"} and main.lost() == 0, main.statuses
    assert httpx.get(preview_url + "/", timeout=10).status_code == 503
    wait_until(lambda: "v3" not in engine.instances(service.name, "prod"), 30, "v3 stopped")
    assert service.serving() == "v1"


def _router(engine: Engine, service: ServiceRepo) -> tuple[RouterLaunch, BuiltinRouter]:
    launch = RouterLaunch.for_environment(
        engine.data_dir, service.name, service.environment, service.ports[service.environment]
    )
    return launch, BuiltinRouter(launch.control)


def _serving(service: ServiceRepo) -> str | None:
    try:
        return service.serving()
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def test_the_worker_restores_the_routes_of_a_router_that_lost_them(
    engine: Engine, service: ServiceRepo
) -> None:
    service.first(engine, "[{set_weight: 50}]")
    launch, router = _router(engine, service)
    try:
        # 1. the router process dies and its state file is lost: the worker starts a new
        #    one and gives it the routes again
        os.kill(int(router.health()["pid"]), signal.SIGKILL)
        launch.state_path.unlink()
        wait_until(lambda: _serving(service) == "v1", 30, "v1 served again")
        assert json.loads(launch.state_path.read_text())["weights"] == {"v1": 100}
        # 2. someone restarts it by hand on an empty state: the worker notices the routes
        #    differ from what the last deployment left and applies them again
        pid = int(router.health()["pid"])
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not router.ping(), 10, "the router gone")
        launch.state_path.unlink()
        router = ensure_router(launch)  # with empty routes (the worker checks every 5 s)
        wait_until(lambda: _serving(service) == "v1", 30, "v1 served again")
        assert router.get_weights() == {"v1": 100} and router.get_preview() is None
    finally:
        router.close()
    log = [
        line
        for line in (engine.root / "worker.log").read_text(errors="replace").splitlines()
        if "router_reasserted" in line and service.name in line
    ]
    assert len(log) >= 2, log
    assert "weights" in log[-1] and "backends" in log[-1]


def test_the_worker_replaces_a_router_that_stopped_answering(
    engine: Engine, service: ServiceRepo
) -> None:
    service.first(engine, "[{set_weight: 50}]")
    launch, router = _router(engine, service)
    hung = int(router.health()["pid"])
    try:
        os.kill(hung, signal.SIGSTOP)  # alive and holding the port, answering nothing
        # the worker's check times out (10 s), kills that process and starts a router
        wait_until(lambda: _serving(service) == "v1", 60, "v1 served by a new router")
        assert int(router.health()["pid"]) != hung
        assert not pid_alive(hung)
    finally:
        router.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(hung, signal.SIGKILL)
    log = (engine.root / "worker.log").read_text(errors="replace")
    assert "does not answer its control socket; killing it" in log
