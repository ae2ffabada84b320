"""What clients experience decides, on real processes under load: a tail of hung requests
and a canary that hangs every request are rolled back; start failures fail at once and say
why; an instance is given `ready_timeout` to become ready, not more."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from tests.support.components import missing

from .harness import Engine, Load, ServiceRepo, wait_until

WINDOW = 2.0  # seconds: the analysis interval of these tests
CANARY = "[{set_weight: 50}, {analysis: {interval: 2s, count: 3, min_requests: 20}}]"
# hung requests are answered 504 by the router after 5 s instead of the default 30 s,
# which keeps the tests short; the analysis counts them long before
SHORT_ROUTER = "\n      router_limits: {response_timeout: 5s}"


def short_router(service: ServiceRepo) -> None:
    service.target_extra = lambda _environment: SHORT_ROUTER  # type: ignore[method-assign]


def test_a_three_percent_tail_of_hung_requests_is_rolled_back(
    engine: Engine, service: ServiceRepo
) -> None:
    short_router(service)
    service.first(engine, CANARY)
    tail = {"HELLO_SLOW_RATE": "0.03", "HELLO_SLOW_MS": "30000"}
    service.release(engine, "v2", CANARY, env=tail)
    with Load(service.url, clients=16) as load:
        wait_until(lambda: load.total > 20, 30, "traffic on v1")
        done = engine.wait(service.deploy(engine, "v2"))
    assert done["status"] == "rolled_back", done["message"]
    assert done["progress"]["reason"] == "analysis failed"
    [failing] = done["state"]["failing_measurements"]
    assert failing["stuck"] > 0 or failing["timeouts"] > 0, failing
    assert engine.weights(service.name, "prod") == {"v1": 100}
    wait_until(lambda: "v2" not in engine.instances(service.name, "prod"), 60, "v2 stopped")
    assert service.serving() == "v1"


def test_a_canary_hanging_every_request_is_rolled_back_within_two_windows(
    engine: Engine, service: ServiceRepo
) -> None:
    short_router(service)
    service.first(engine, CANARY)
    service.release(engine, "v2", CANARY, env={"HELLO_SLOW_RATE": "1", "HELLO_SLOW_MS": "60000"})
    with Load(service.url, clients=8):
        done = engine.wait(service.deploy(engine, "v2"))
    assert done["status"] == "rolled_back", done["message"]
    [failing] = done["state"]["failing_measurements"]
    assert failing["verdict"] == "fail"
    assert failing["reason"].startswith("no request answered"), failing["reason"]
    started = datetime.fromisoformat(done["measurements"][0]["run_started_at"])
    judged = datetime.fromisoformat(failing["taken_at"])
    assert (judged - started).total_seconds() <= 2 * WINDOW, (started, judged)
    assert engine.weights(service.name, "prod") == {"v1": 100}  # zero weight left on v2
    wait_until(lambda: "v2" not in engine.instances(service.name, "prod"), 60, "v2 stopped")


@contextlib.contextmanager
def full_disk(path: Path) -> Iterator[None]:
    """A tiny tmpfs at `path`, filled up: every write there fails with ENOSPC."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:  # the process-start seam test covers ENOSPC without it
        missing("root", f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        with contextlib.suppress(OSError), (path / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)  # noqa: S603, S607


def test_a_full_disk_at_start_fails_the_deployment_at_once_with_the_reason(
    engine: Engine, service: ServiceRepo
) -> None:
    service.release(engine, "v1", CANARY)
    with full_disk(engine.data_dir / "releases" / service.name):
        deployment_id = service.deploy(engine, "v1")
        done = engine.wait(deployment_id, timeout=60)
    assert done["status"] == "failed"
    assert done["progress"]["reason"] == "canary cannot start"
    assert "No space left on device" in done["message"], done["message"]
    assert f"releases/{service.name}" in done["message"], done["message"]
    shown = engine.cli("status", "--service", service.name)
    assert shown.returncode == 0, shown.stderr
    assert "No space left on device" in shown.stderr
    events = [e.get("reason") for e in done["events"] if "status" in e]
    assert events[-1] == "canary cannot start"
    assert len(events) <= 3  # started, rolling back, failed: no retries in between


def test_a_slow_start_within_ready_timeout_succeeds(engine: Engine, service: ServiceRepo) -> None:
    service.target_extra = lambda _e: "\n      ready_timeout: 20s"  # type: ignore[method-assign]
    service.release(engine, "v1", CANARY, env={"HELLO_START_DELAY_MS": "3000"})
    done = engine.wait(service.deploy(engine, "v1"))
    assert done["status"] == "succeeded", done["message"]


def test_a_start_slower_than_ready_timeout_fails_as_not_ready(
    engine: Engine, service: ServiceRepo
) -> None:
    service.target_extra = lambda _e: "\n      ready_timeout: 2s"  # type: ignore[method-assign]
    service.release(engine, "v1", CANARY, env={"HELLO_START_DELAY_MS": "20000"})
    done = engine.wait(service.deploy(engine, "v1"), timeout=90)
    assert done["status"] == "failed"
    assert done["progress"]["reason"] == "canary not ready", done["message"]
    assert "not ready within 2 s (last health answer: GET /healthz" in done["message"]
    assert "connection refused" in done["message"]
    assert "crashed" not in done["message"]


def test_an_analysis_without_traffic_says_how_to_give_it_some(
    engine: Engine, service: ServiceRepo
) -> None:
    service.first(engine, CANARY)
    lonely = "[{set_weight: 50}, {analysis: {interval: 2s, count: 2, min_requests: 40}}]"
    service.release(engine, "v2", lonely)
    name = ("--service", service.name)
    watched = engine.cli("deploy", "prod", "--version", "v2", "--watch", *name)
    assert watched.returncode == 1, watched.stderr
    assert "each measurement needs 40 requests to v2 within 2 s" in watched.stderr
    assert "about 40.0 requests/s at 50%" in watched.stderr
    assert "codectl load prod --rps 48 --duration 10s" in watched.stderr, watched.stderr
    results: list[subprocess.CompletedProcess[str]] = []
    sender = threading.Thread(
        target=lambda: results.append(
            engine.cli("load", "prod", "--rps", "60", "--duration", "12s", *name, "-o", "json")
        )
    )
    sender.start()
    try:
        resumed = engine.cli("resume", "prod", *name)
        assert resumed.returncode == 0, resumed.stderr
        latest = engine.api("GET", "/api/v1/deployments", service=service.name, limit=1)
        done = engine.wait(int(latest["items"][0]["id"]))
        assert done["status"] == "succeeded", done["message"]
    finally:
        sender.join(60)
    [loaded] = results
    assert loaded.returncode == 0, loaded.stderr
    summary = json.loads(loaded.stdout)
    assert summary["sent"] > 300 and summary["errors"] == 0 and summary["5xx"] == 0
    assert service.serving() == "v2"


def test_slow_header_clients_cannot_hold_the_router(engine: Engine, service: ServiceRepo) -> None:
    limits = "\n      router_limits: {client_header_timeout: 2s, max_headers: 50}"
    service.target_extra = lambda _e: limits  # type: ignore[method-assign]
    service.first(engine, CANARY)
    port = int(service.url.rsplit(":", 1)[1])
    with Load(service.url, clients=4) as load:
        slow = []
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", port), timeout=15)
            sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nx-drip: 1\r\n")
            slow.append(sock)
        served = load.total
        for sock in slow:  # each is answered 408 and closed after its 2 s
            answer = sock.recv(4096)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:40]
            sock.close()
        wait_until(lambda: load.total > served + 20, 30, "requests served meanwhile")
        many = b"GET / HTTP/1.1\r\nhost: x\r\n" + b"x-a: 1\r\n" * 60 + b"\r\n"
        with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
            sock.sendall(many)
            assert sock.recv(4096).startswith(b"HTTP/1.1 431 ")
    assert load.lost() == 0, (load.statuses, load.failures[:5])


def test_a_router_port_taken_by_another_process_fails_the_deployment_at_once(
    engine: Engine, service: ServiceRepo
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", service.ports["prod"]))
        taken.listen()
        service.release(engine, "v1", CANARY)
        done = engine.wait(service.deploy(engine, "v1"), timeout=60)
    assert done["status"] == "failed", done
    assert done["progress"]["reason"] == "router cannot start", done  # the whole record if not
    assert f"127.0.0.1:{service.ports['prod']}: the port is in use" in done["message"]
