from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from code_engine.deploy.local import (
    InstanceStartError,
    InstanceState,
    LaunchSpec,
    RestartPolicy,
    Supervisor,
)
from code_engine.deploy.local.proc import pid_alive


def _get(address: str, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://{address}{path}", timeout=10)


def test_starts_instances_ready_on_their_own_ports(
    supervisor: Supervisor, hello_spec: Callable[..., LaunchSpec], wait_for: Callable[..., object]
) -> None:
    infos = supervisor.start(hello_spec("1.0.0", instances=2))
    assert [i.state for i in infos] == [InstanceState.READY, InstanceState.READY]
    assert len({i.port for i in infos}) == 2
    for address in supervisor.addresses("1.0.0"):
        assert _get(address).json() == {"service": "hello", "version": "1.0.0"}
    # instances lead their own session: they outlive the controller's process group
    assert all(os.getsid(i.pid) == i.pid for i in infos)
    # starting again is idempotent; asking for fewer stops the extra ones
    again = supervisor.start(hello_spec("1.0.0", instances=2))
    assert [i.pid for i in again] == [i.pid for i in infos]
    fewer = supervisor.start(hello_spec("1.0.0", instances=1))
    assert [i.pid for i in fewer] == [infos[0].pid]
    wait_for(lambda: not pid_alive(infos[1].pid))


def test_crashed_instance_is_restarted_on_the_same_port(
    supervisor: Supervisor, hello_spec: Callable[..., LaunchSpec], wait_for: Callable[..., object]
) -> None:
    first = supervisor.start(hello_spec("1.0.0"))[0]
    os.kill(first.pid, signal.SIGKILL)

    def restarted() -> bool:
        supervisor.check()
        now = supervisor.instances("1.0.0")[0]
        return now.state is InstanceState.READY and now.pid != first.pid

    wait_for(restarted)
    now = supervisor.instances("1.0.0")[0]
    assert (now.port, now.restarts) == (first.port, 1)
    assert _get(now.address).status_code == 200
    assert "restarting in" in Path(now.log_path).read_text()


FLAKY = """
import http.server, os, sys
if not os.path.exists(sys.argv[2]):
    sys.exit(3)
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


def test_gives_up_after_rapid_crashes(
    data_dir: Path, tmp_path: Path, wait_for: Callable[..., object]
) -> None:
    (tmp_path / "flaky.py").write_text(FLAKY)
    (tmp_path / "healthy").touch()
    policy = RestartPolicy(initial_delay=0.05, max_delay=0.2, rapid_window=60, max_rapid_crashes=3)
    supervisor = Supervisor("flaky", "test", data_dir, policy=policy)
    spec = LaunchSpec("1", "{python} flaky.py {port} healthy", cwd=tmp_path, health_path="/")
    try:
        instance = supervisor.start(spec)[0]
        (tmp_path / "healthy").unlink()
        os.kill(instance.pid, signal.SIGKILL)

        supervisor.start_monitor(interval=0.05)  # supervision runs on its own now
        wait_for(lambda: supervisor.instances()[0].state is InstanceState.CRASHED)
        supervisor.close()
        assert "giving up" in Path(instance.log_path).read_text()
    finally:
        supervisor.stop_all(grace=2)


def test_never_ready_raises_with_the_log_tail_and_leaves_nothing_running(
    supervisor: Supervisor, hello_spec: Callable[..., LaunchSpec]
) -> None:
    spec = hello_spec("2.0.0", HELLO_FAIL_HEALTH="1")
    spec = LaunchSpec(**{**spec.__dict__, "ready_timeout": 2.0})
    with pytest.raises(
        InstanceStartError,
        match=r"not ready within 2 s \(last health answer: GET /healthz on port \d+: HTTP 503",
    ) as caught:
        supervisor.start(spec)
    assert caught.value.log_tail, "the error carries the end of the instance log"
    assert supervisor.instances() == []


def test_command_that_exits_immediately_fails_fast(supervisor: Supervisor, tmp_path: Path) -> None:
    spec = LaunchSpec("1", "{python} -c 'import sys; print(\"boom\"); sys.exit(4)'", cwd=tmp_path)
    with pytest.raises(
        InstanceStartError, match=r"exited with code 4 before it was ready"
    ) as caught:
        supervisor.start(spec)
    assert "boom" in caught.value.log_tail
    assert caught.value.kind == "crashed" and not caught.value.retryable


def test_a_new_supervisor_adopts_running_instances(
    supervisor: Supervisor, hello_spec: Callable[..., LaunchSpec], data_dir: Path
) -> None:
    infos = supervisor.start(hello_spec("1.0.0", instances=2))
    supervisor.close()
    successor = Supervisor("hello", "test", data_dir)
    adopted = successor.adopt()
    assert [(i.pid, i.port, i.state) for i in adopted] == [
        (i.pid, i.port, InstanceState.READY) for i in infos
    ]


CONTROLLER = """
import json, sys, time
from pathlib import Path
from code_engine.deploy.local import LaunchSpec, Supervisor
spec = LaunchSpec.from_json(json.loads(sys.argv[2]))
Supervisor("hello", "test", Path(sys.argv[1])).start(spec)
print("started", flush=True)
time.sleep(600)
"""


def test_instances_survive_a_killed_controller_and_dead_ones_are_restarted(
    supervisor: Supervisor,
    hello_spec: Callable[..., LaunchSpec],
    data_dir: Path,
    wait_for: Callable[..., object],
) -> None:
    spec = hello_spec("1.0.0", instances=2)
    controller = subprocess.Popen(
        [sys.executable, "-c", CONTROLLER, str(data_dir), json.dumps(spec.to_json())],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert controller.stdout is not None
        assert controller.stdout.readline().strip() == "started"
    finally:
        controller.kill()
        controller.wait()
    adopted = supervisor.adopt()
    assert [i.state for i in adopted] == [InstanceState.READY] * 2
    for info in adopted:
        assert _get(info.address).status_code == 200
    # one instance dies while no controller watches: the next supervisor restarts it
    os.kill(adopted[0].pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(adopted[0].pid))
    successor = Supervisor("hello", "test", data_dir)
    try:
        assert successor.adopt()[0].state is InstanceState.BACKOFF

        def healed() -> bool:
            successor.check()
            return successor.instances()[0].state is InstanceState.READY

        wait_for(healed)
        assert _get(successor.instances()[0].address).status_code == 200
    finally:
        successor.stop_all(grace=5)


def test_a_reused_pid_is_not_adopted(
    supervisor: Supervisor, hello_spec: Callable[..., LaunchSpec], data_dir: Path
) -> None:
    info = supervisor.start(hello_spec("1.0.0"))[0]
    state_path = supervisor.state_path
    state = json.loads(state_path.read_text())
    # pretend the recorded process started at another time: same pid, other process
    state["instances"][0]["start_ticks"] += 1
    state_path.write_text(json.dumps(state))
    successor = Supervisor("hello", "test", data_dir)
    assert successor.adopt()[0].state is InstanceState.BACKOFF
    os.kill(info.pid, signal.SIGKILL)  # the real one is nobody's now; clean it up


def test_a_restart_starts_each_replacement_beside_the_instance_it_replaces(
    supervisor: Supervisor, hello_spec: Callable[..., LaunchSpec]
) -> None:
    before = supervisor.start(hello_spec("1.0.0", instances=2))
    seen: list[list[tuple[int, InstanceState]]] = []

    def route() -> None:  # what the router is given at each swap
        seen.append([(i.port, i.state) for i in supervisor.instances("1.0.0")])
        for info in supervisor.instances("1.0.0"):
            if info.state is InstanceState.READY:
                assert _get(info.address).status_code == 200

    after = supervisor.restart("1.0.0", route=route)
    assert [i.index for i in after] == [0, 1]
    assert [i.state for i in after] == [InstanceState.READY, InstanceState.READY]
    assert not {i.pid for i in after} & {i.pid for i in before}
    assert not any(pid_alive(i.pid) for i in before)
    assert [i.log_path for i in after] == [i.log_path for i in before]
    # at each swap the old instance is stopping, and two others answer: never fewer than two
    assert len(seen) == 2
    for swap in seen:
        states = sorted(state.value for _, state in swap)
        assert states == ["ready", "ready", "stopping"], swap
    log = Path(after[0].log_path).read_text()
    assert f"its replacement starts on port {after[0].port}" in log
    again = supervisor.start(hello_spec("1.0.0", instances=2))  # nothing surplus is left
    assert [i.pid for i in again] == [i.pid for i in after]


def test_a_replacement_that_cannot_start_leaves_the_old_instance_serving(
    data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "flaky.py").write_text(FLAKY)
    (tmp_path / "healthy").touch()
    supervisor = Supervisor("flaky", "test", data_dir)
    spec = LaunchSpec("1", "{python} flaky.py {port} healthy", cwd=tmp_path, health_path="/")
    try:
        [before] = supervisor.start(spec)
        (tmp_path / "healthy").unlink()  # the replacement exits at once
        with pytest.raises(InstanceStartError):
            supervisor.restart("1", route=lambda: pytest.fail("nothing to route"))
        [after] = supervisor.instances("1")
        assert (after.pid, after.port, after.state) == (before.pid, before.port, before.state)
        assert _get(after.address).status_code == 200
    finally:
        supervisor.stop_all(grace=2)


def test_a_swap_the_router_refuses_is_undone(
    supervisor: Supervisor, hello_spec: Callable[..., LaunchSpec]
) -> None:
    [before] = supervisor.start(hello_spec("1.0.0"))

    def refuse() -> None:
        raise OSError("the router is gone")

    with pytest.raises(OSError, match="the router is gone"):
        supervisor.restart("1.0.0", route=refuse)
    [after] = supervisor.instances("1.0.0")
    assert (after.pid, after.index, after.state) == (before.pid, 0, InstanceState.READY)
    assert _get(after.address).status_code == 200
    state = json.loads(supervisor.state_path.read_text())
    assert [r["index"] for r in state["instances"]] == [0], "the replacement is forgotten"
