"""The builtin router process against hanging instances, refused connections and hostile
clients: what it counts per version, when it gives up, and who it closes."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from code_engine.deploy.local.ports import free_port
from code_engine.deploy.router import (
    BuiltinRouter,
    HAProxyRouter,
    HAProxySettings,
    ProxyConfig,
    RouterLaunch,
    stop_router,
)
from code_engine.deploy.router import ensure_router as start_router

LIMITS = ProxyConfig(
    response_timeout=1.0, read_timeout=1.0, client_header_timeout=1.5, max_headers=20
)
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


class Instance:
    """A raw instance: answers at once, or holds every request (`hang`)."""

    def __init__(self, hang: bool) -> None:
        self.hang = hang
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.hang:
                self.held.append(conn)
            else:
                threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    @staticmethod
    def _answer(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            buffer = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
                while b"\r\n\r\n" in buffer:
                    _, buffer = buffer.split(b"\r\n\r\n", 1)
                    conn.sendall(OK)

    def close(self) -> None:
        self.closed = True
        self.sock.close()
        for conn in self.held:
            conn.close()


def wait_until(predicate: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(0.05)
    return value


@pytest.fixture
def router(tmp_path: Path) -> Iterator[tuple[BuiltinRouter, str]]:
    port = free_port("127.0.0.1")
    launch = RouterLaunch.for_environment(tmp_path, "svc", "prod", port, limits=LIMITS)
    client = start_router(launch)
    yield client, f"http://127.0.0.1:{port}"
    stop_router(client)
    client.close()


@pytest.fixture
def instances() -> Iterator[Callable[[bool], Instance]]:
    made: list[Instance] = []

    def make(hang: bool) -> Instance:
        made.append(Instance(hang))
        return made[-1]

    yield make
    for instance in made:
        instance.close()


def test_requests_in_flight_have_ages_and_a_timeout_counts_against_the_version(
    router: tuple[BuiltinRouter, str], instances: Callable[[bool], Instance]
) -> None:
    control, url = router
    hanging = instances(True)
    control.set_backends({"v2": [hanging.address]})
    control.set_weights({"v2": 100})
    with ThreadPoolExecutor(3) as pool:
        answers = [pool.submit(httpx.get, url, timeout=20) for _ in range(3)]

        def waiting() -> bool:
            stats = control.stats().get("v2")
            return stats is not None and sum(stats.in_flight_buckets[14:]) == 3  # > 250 ms

        wait_until(waiting)
        assert {a.result().status_code for a in answers} == {504}
    stats = control.stats()["v2"]
    assert (stats.requests, stats.errors, stats.timeouts, stats.connect_errors) == (3, 3, 3, 0)
    assert sum(stats.in_flight_buckets) == 0


def test_a_refused_connection_counts_as_a_connection_error(
    router: tuple[BuiltinRouter, str],
) -> None:
    control, url = router
    closed = free_port("127.0.0.1")
    control.set_backends({"v3": [f"127.0.0.1:{closed}"]})
    control.set_weights({"v3": 100})
    assert httpx.get(url, timeout=10).status_code == 502
    stats = control.stats()["v3"]
    assert (stats.errors, stats.connect_errors, stats.timeouts) == (1, 1, 0)


def test_limits_reach_a_running_router_on_sighup(tmp_path: Path) -> None:
    port = free_port("127.0.0.1")
    launch = RouterLaunch.for_environment(tmp_path, "svc", "dev", port)
    control = start_router(launch)
    try:
        raw = b"GET / HTTP/1.1\r\nhost: x\r\n" + b"x-a: 1\r\n" * 30 + b"\r\n"
        assert b" 503 " in _send(port, raw)  # 30 headers are fine by default (no weight)
        tighter = RouterLaunch.for_environment(tmp_path, "svc", "dev", port, limits=LIMITS)
        start_router(tighter)
        wait_until(lambda: b" 431 " in _send(port, raw))
    finally:
        stop_router(control)


def _send(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        return sock.recv(4096)


def test_too_many_or_too_large_headers_get_431(
    router: tuple[BuiltinRouter, str], instances: Callable[[bool], Instance]
) -> None:
    control, url = router
    port = int(url.rsplit(":", 1)[1])
    control.set_backends({"v1": [instances(False).address]})
    control.set_weights({"v1": 100})
    assert httpx.get(url, timeout=10).status_code == 200
    many = b"GET / HTTP/1.1\r\nhost: x\r\n" + b"x-a: 1\r\n" * 30 + b"\r\n"
    assert _send(port, many).startswith(b"HTTP/1.1 431 ")
    huge = b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 100_000 + b"\r\n\r\n"
    assert _send(port, huge).startswith(b"HTTP/1.1 431 ")
    # a head arriving in pieces is counted as it grows, before it is complete
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nx-big: ")
        # the router answers and closes as soon as the head passes the limit, so a later
        # piece may find the connection gone: the answer is what counts
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(10):
                sock.sendall(b"a" * 8192)
        assert sock.recv(4096).startswith(b"HTTP/1.1 431 ")
    assert httpx.get(url, timeout=10).status_code == 200


def test_slow_header_clients_are_closed_and_others_keep_being_served(
    router: tuple[BuiltinRouter, str], instances: Callable[[bool], Instance]
) -> None:
    control, url = router
    port = int(url.rsplit(":", 1)[1])
    control.set_backends({"v1": [instances(False).address]})
    control.set_weights({"v1": 100})
    slow = []
    for _ in range(200):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n")
        slow.append(sock)
    served = 0
    with httpx.Client(base_url=url, timeout=10) as client:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # a slowloris drips a header line now and then
            for sock in slow[::20]:
                sock.sendall(b"x-drip: 1\r\n")
            served += client.get("/").status_code == 200
    assert served > 0
    for sock in slow:
        answer = sock.recv(4096)  # the router answers 408 and closes, within its timeout
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:40]
        sock.close()
    assert httpx.get(url, timeout=10).status_code == 200


def test_haproxy_reports_the_same_failures_and_limits(
    haproxy_binary: str, tmp_path: Path, instances: Callable[[bool], Instance]
) -> None:
    port = free_port("127.0.0.1")
    settings = HAProxySettings(workdir=tmp_path / "haproxy", port=port, binary=haproxy_binary)
    haproxy = HAProxyRouter(settings.with_limits(LIMITS))
    url = f"http://127.0.0.1:{port}"
    try:
        closed = f"127.0.0.1:{free_port('127.0.0.1')}"
        ok, hanging = instances(False), instances(True)
        haproxy.set_backends({"v1": [ok.address], "v2": [hanging.address], "v3": [closed]})
        haproxy.set_weights({"v2": 100})
        with ThreadPoolExecutor(2) as pool:
            answers = [pool.submit(httpx.get, url, timeout=20) for _ in range(2)]
            wait_until(lambda: sum(haproxy.stats()["v2"].in_flight_buckets) == 2)
            assert {a.result().status_code for a in answers} == {504}
        v2 = haproxy.stats()["v2"]
        assert (v2.requests, v2.errors, v2.timeouts, v2.connect_errors) == (2, 2, 2, 0)
        haproxy.set_weights({"v3": 100})
        assert httpx.get(url, timeout=10).status_code == 503
        v3 = haproxy.stats()["v3"]
        assert (v3.errors, v3.connect_errors, v3.timeouts) == (1, 1, 0)
        haproxy.set_weights({"v1": 100})
        assert httpx.get(url, timeout=10).status_code == 200
        many = b"GET / HTTP/1.1\r\nhost: x\r\n" + b"x-a: 1\r\n" * 30 + b"\r\n"
        assert _send(port, many).startswith(b"HTTP/1.1 431 ")
        # above the limit, within HAProxy's buffer (beyond it HAProxy itself answers 400)
        big = b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 34_000 + b"\r\n\r\n"
        assert _send(port, big).startswith(b"HTTP/1.1 431 ")
    finally:
        haproxy.stop()
