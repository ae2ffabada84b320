"""`codectl down` stops the instances and routers of the local target for good, and
`codectl logs` of a service that never ran names those that did."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest
from tests.support.waiting import wait_until as wait_for

from code_engine.cli.main import run
from code_engine.deploy.local import Supervisor
from code_engine.deploy.local.proc import is_same_process, pid_alive, reap
from code_engine.deploy.router import RouterLaunch, ensure_router

from .conftest import make_hello_spec


def codectl(*args: str) -> int:
    try:
        run(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_down_stops_every_instance_and_router(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODE_DATA_DIR", str(data_dir))
    supervisor = Supervisor("hello", "dev", data_dir)
    [instance] = supervisor.start(make_hello_spec("v1"))
    router = ensure_router(RouterLaunch.for_environment(data_dir, "hello", "dev", 0, 0))
    pid = int(router.health()["pid"])
    supervisor.close()
    assert codectl("down", "--grace", "5") == 0
    out = capsys.readouterr().out
    assert "hello" in out and "v1" in out and "stopped" in out
    assert not router.ping()
    for child in (instance.pid, pid):  # both were started by this process: reap them

        def gone(child: int = child) -> bool:
            reap(child)
            return not is_same_process(child, None)

        wait_for(gone, timeout=15)
    router.close()
    assert Supervisor("hello", "dev", data_dir).versions() == []
    assert codectl("down") == 0  # nothing left: says so
    assert "nothing runs in" in capsys.readouterr().err
    assert codectl("logs", "api", "--data-dir", str(data_dir)) == 2
    assert "logs exist for: hello --env dev" in capsys.readouterr().err


def test_down_stops_a_router_that_does_not_answer(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODE_DATA_DIR", str(data_dir))
    launch = RouterLaunch.for_environment(data_dir, "hello", "dev", 0, 0)
    router = ensure_router(launch)
    pid = int(router.health()["pid"])
    router.close()
    os.kill(pid, signal.SIGSTOP)  # hung: its control socket accepts and never answers
    try:
        assert codectl("down", "--grace", "1", "-o", "json") == 0
        assert '"router": "stopped"' in capsys.readouterr().out
        assert not pid_alive(pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
