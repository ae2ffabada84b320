"""A router process that runs but no longer answers (stopped, deadlocked) holds its port:
the next `ensure_router` finds it by its process file, kills it, and starts a router that
serves the saved routes again. Only that very process is ever killed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from code_engine.deploy.local.ports import free_port
from code_engine.deploy.local.proc import pid_alive, start_ticks
from code_engine.deploy.router import RouterLaunch, ensure_router, stop_router
from code_engine.deploy.router.launch import recorded_router


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[RouterLaunch]:
    made = RouterLaunch.for_environment(tmp_path, "hello", "t", free_port())
    yield made
    recorded = recorded_router(made.process_path)
    if recorded is not None:
        os.kill(recorded, signal.SIGKILL)


def test_a_hung_router_is_replaced_and_serves_its_routes_again(
    launch: RouterLaunch, hello_backends: dict[str, list[str]]
) -> None:
    router = ensure_router(launch)
    router.set_backends({"v1": hello_backends["v1"]})
    router.set_weights({"v1": 100})
    hung = int(router.health()["pid"])
    assert recorded_router(launch.process_path) == hung
    os.kill(hung, signal.SIGSTOP)
    try:
        again = ensure_router(launch)
        fresh = int(again.health()["pid"])
        assert fresh != hung and not pid_alive(hung)
        assert recorded_router(launch.process_path) == fresh
        answer = httpx.get(f"http://127.0.0.1:{launch.port}/", timeout=10)
        assert answer.json()["version"] == "v1", "the saved routes serve again"
        assert stop_router(again, recorded=launch.process_path)
        assert not pid_alive(fresh)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(hung, signal.SIGKILL)


def test_a_process_file_naming_another_process_kills_nothing(
    launch: RouterLaunch, tmp_path: Path
) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # noqa: S603
    try:
        launch.process_path.parent.mkdir(parents=True, exist_ok=True)
        record = {"pid": other.pid, "start_ticks": start_ticks(other.pid)}
        launch.process_path.write_text(json.dumps(record))
        assert recorded_router(launch.process_path) is None, "not a router"
        record["start_ticks"] = (record["start_ticks"] or 0) + 1
        launch.process_path.write_text(json.dumps(record))
        assert recorded_router(launch.process_path) is None, "a reused pid"
        launch.process_path.write_text("{not json")
        assert recorded_router(launch.process_path) is None
        router = ensure_router(launch)
        assert other.poll() is None, "the other process was left alone"
        stop_router(router)
    finally:
        other.kill()
        other.wait()
