"""Fixtures of the local-target and router tests: the hello example run as real processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.components import binary
from tests.support.waiting import wait_until

from code_engine.deploy.local import LaunchSpec, RestartPolicy, Supervisor

HELLO_DIR = Path(__file__).resolve().parents[3] / "examples" / "hello"
HELLO_COMMAND = "{python} -m uvicorn app:app --host {host} --port {port} --log-level warning"


def make_hello_spec(version: str, instances: int = 1, **env: str) -> LaunchSpec:
    return LaunchSpec(
        version=version,
        command=HELLO_COMMAND,
        cwd=HELLO_DIR,
        instances=instances,
        env={"HELLO_VERSION": "{version}", **env},
        ready_timeout=60.0,
        stop_grace=5.0,
    )


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., Any]:
    return wait_until


@pytest.fixture
def hello_spec() -> Callable[..., LaunchSpec]:
    return make_hello_spec


@pytest.fixture
def supervisor(data_dir: Path) -> Iterator[Supervisor]:
    sv = Supervisor(
        "hello", "test", data_dir, policy=RestartPolicy(initial_delay=0.1, rapid_window=30)
    )
    yield sv
    sv.close()
    sv.stop_all(grace=5)


@pytest.fixture(scope="session")
def haproxy_binary() -> str:
    """The HAProxy binary, or skip (fail when CODE_TEST_REQUIRE_HAPROXY=1)."""
    return binary("haproxy", "haproxy", "apt-get install haproxy", "/usr/sbin/haproxy")


@pytest.fixture(scope="session")
def hello_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[str]]]:
    """Three hello versions behind every router test: v1 (2 instances), v2, and v2-flaky
    (1 request in 4 answered 500)."""
    sv = Supervisor("hello", "router-test", tmp_path_factory.mktemp("backends"))
    try:
        sv.start(make_hello_spec("v1", instances=2))
        sv.start(make_hello_spec("v2"))
        sv.start(make_hello_spec("v2-flaky", HELLO_ERROR_RATE="0.25"))
        yield {v: sv.addresses(v) for v in ("v1", "v2", "v2-flaky")}
    finally:
        sv.stop_all(grace=5)
