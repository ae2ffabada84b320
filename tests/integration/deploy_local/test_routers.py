"""Behaviour every traffic router must have, checked on the builtin router process and on
a real HAProxy, with real hello instances behind them."""

from __future__ import annotations

import collections
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from code_engine.deploy.local.ports import free_port
from code_engine.deploy.local.proc import pid_alive
from code_engine.deploy.router import (
    HAProxyRouter,
    HAProxySettings,
    InProcessRouter,
    RouterError,
    RouterLaunch,
    TrafficRouter,
    ensure_router,
    stop_router,
)


class Routed:
    """A router under test and the URL clients use."""

    def __init__(self, router: TrafficRouter, port: int, backends: dict[str, list[str]]):
        self.router = router
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.backends = backends
        self.extra: dict[str, list[str]] = {}

    def route(self, weights: dict[str, int], **extra: list[str]) -> None:
        """Switch like a controller does: add backends, move weights, remove backends."""
        self.router.set_backends({**self.backends, **self.extra, **extra})
        self.router.set_weights(weights)
        self.router.set_backends({**self.backends, **extra})
        self.extra = extra
        self.router.reset_stats()


@pytest.fixture(scope="module", params=["builtin", "inprocess", "haproxy"])
def routed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    hello_backends: dict[str, list[str]],
) -> Iterator[Routed]:
    port = free_port()
    workdir = tmp_path_factory.mktemp(f"router-{request.param}")  # also the in-process proxy
    if request.param == "builtin":
        launch = RouterLaunch.for_environment(workdir, "hello", "test", port)
        builtin = ensure_router(launch)
        yield Routed(builtin, port, hello_backends)
        stop_router(builtin)
        builtin.close()
    elif request.param == "inprocess":
        inprocess = InProcessRouter()
        yield Routed(inprocess, inprocess.port, hello_backends)
        inprocess.close()
    else:
        binary = request.getfixturevalue("haproxy_binary")
        settings = HAProxySettings(workdir=workdir, port=port, binary=binary)
        haproxy = HAProxyRouter(settings)
        yield Routed(haproxy, port, hello_backends)
        haproxy.stop()


def _versions(url: str, count: int, path: str = "/") -> collections.Counter[str]:
    seen: collections.Counter[str] = collections.Counter()
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(count):
            response = client.get(path)
            seen[
                response.json()["version"]
                if response.status_code == 200
                else str(response.status_code)
            ] += 1
    return seen


def test_all_traffic_follows_a_100_percent_weight(routed: Routed) -> None:
    routed.route({"v1": 100, "v2": 0})
    assert _versions(routed.url, 50) == {"v1": 50}
    assert routed.router.verify_weights({"v1": 100})
    assert not routed.router.verify_weights({"v1": 80, "v2": 20})


def test_an_80_20_split_holds_over_many_requests(routed: Routed) -> None:
    routed.route({"v1": 80, "v2": 20})
    seen = _versions(routed.url, 1000)
    assert set(seen) == {"v1", "v2"}
    assert 0.76 <= seen["v1"] / 1000 <= 0.84, seen
    assert routed.router.get_weights() == {"v1": 80, "v2": 20}
    stats = routed.router.stats()
    assert stats["v1"].requests == seen["v1"]
    assert stats["v2"].requests == seen["v2"]


def test_5xx_are_counted_for_the_version_that_answered_them(routed: Routed) -> None:
    routed.route({"v1": 50, "v2-flaky": 50})
    seen = _versions(routed.url, 400)
    stats = routed.router.stats()
    flaky = stats["v2-flaky"]
    assert flaky.requests == seen["v2-flaky"] + seen["500"]
    assert flaky.errors == seen["500"]
    assert abs(flaky.errors - flaky.requests / 4) <= 1, "hello fails exactly 1 request in 4"
    assert stats["v1"].errors == 0
    assert stats["v1"].requests == seen["v1"]


def test_an_unreachable_instance_is_an_error_of_its_version(routed: Routed) -> None:
    routed.route({"dead": 100}, dead=[f"127.0.0.1:{free_port()}"])
    with httpx.Client(base_url=routed.url, timeout=30) as client:
        statuses = [client.get("/").status_code for _ in range(5)]
    assert all(status in (502, 503) for status in statuses), statuses
    dead = routed.router.stats()["dead"]
    assert (dead.requests, dead.errors) == (5, 5)
    routed.route({"v1": 100})  # the dead version can go once it has no weight


def test_forwarded_headers_reach_the_instance(routed: Routed) -> None:
    routed.route({"v1": 100})
    response = httpx.post(
        f"{routed.url}/echo", content=b"hi", headers={"X-Forwarded-For": "203.0.113.7"}
    )
    headers = response.json()["headers"]
    assert headers["x-forwarded-for"].endswith("127.0.0.1")
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == f"127.0.0.1:{routed.port}"
    assert response.json()["body"] == "hi"


def test_keep_alive_serves_many_requests_on_one_connection(routed: Routed) -> None:
    routed.route({"v1": 100})
    request = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
    with socket.create_connection(("127.0.0.1", routed.port), timeout=30) as sock:
        reader = sock.makefile("rb")
        for _ in range(5):
            sock.sendall(request)
            assert reader.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            assert b'"version": "v1"' in reader.read(length)


def test_chunked_bodies_stream_both_ways(routed: Routed) -> None:
    routed.route({"v1": 100})
    with httpx.Client(base_url=routed.url, timeout=30) as client:
        with client.stream("GET", "/stream", params={"chunks": 200, "size": 1000}) as response:
            assert response.headers["transfer-encoding"] == "chunked"
            body = b"".join(response.iter_bytes())
        assert len(body) == 200_000
        assert body[:1000] == b"a" * 1000 and body[-1000:] == bytes([ord("a") + 199 % 26]) * 1000

        def upload() -> Iterator[bytes]:
            for n in range(50):
                yield f"part{n};".encode()

        echoed = client.post("/echo", content=upload()).json()
        assert echoed["body"] == "".join(f"part{n};" for n in range(50))
        assert echoed["headers"]["transfer-encoding"] == "chunked"


def test_changing_weights_under_steady_load_loses_no_request(
    routed: Routed, wait_for: Callable[..., Any]
) -> None:
    routed.route({"v1": 100, "v2": 0})
    statuses: collections.Counter[int] = collections.Counter()
    versions: collections.Counter[str] = collections.Counter()
    failures: list[BaseException] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=routed.url, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = client.get("/")
                except httpx.HTTPError as exc:
                    failures.append(exc)
                    continue
                statuses[response.status_code] += 1
                if response.status_code == 200:
                    versions[response.json()["version"]] += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for step in range(20):
            share = (step * 25) % 125
            routed.router.set_weights({"v1": 100 - share, "v2": share})
            served = sum(statuses.values()) + len(failures)  # a few requests at each split
            wait_for(lambda served=served: sum(statuses.values()) + len(failures) > served + 5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    assert set(statuses) == {200}, statuses
    assert versions["v1"] > 0 and versions["v2"] > 0
    assert sum(statuses.values()) > 50


def test_wait_idle_waits_for_in_flight_requests(
    routed: Routed, wait_for: Callable[..., object]
) -> None:
    routed.route({"v2": 100})
    result: list[int] = []
    slow = threading.Thread(
        target=lambda: result.append(
            httpx.get(f"{routed.url}/work?ms=1500", timeout=30).status_code
        )
    )
    slow.start()
    wait_for(lambda: routed.router.stats().get("v2") and routed.router.stats()["v2"].in_flight == 1)
    assert routed.router.wait_idle("v2", timeout=0.05) is False
    assert routed.router.wait_idle("v2", timeout=30) is True
    slow.join(timeout=30)
    assert result == [200]
    assert routed.router.wait_idle("never-routed", timeout=0.05) is True


@pytest.fixture(scope="module")
def builtin(
    tmp_path_factory: pytest.TempPathFactory, hello_backends: dict[str, list[str]]
) -> Iterator[tuple[RouterLaunch, Routed]]:
    launch = RouterLaunch.for_environment(
        tmp_path_factory.mktemp("builtin"), "hello", "t", free_port()
    )
    router = ensure_router(launch)
    yield launch, Routed(router, launch.port, hello_backends)
    stop_router(router)


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_builtin_answers_pipelined_requests_in_order_and_honours_http10(
    builtin: tuple[RouterLaunch, Routed],
) -> None:
    _, routed = builtin
    routed.route({"v1": 100})
    pipelined = (
        b"GET /work?ms=50 HTTP/1.1\r\nHost: t\r\n\r\n"
        b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    answer = _exchange(routed.port, pipelined)
    statuses = re.findall(rb"HTTP/1\.1 \d{3} [A-Za-z ]+(?=\r\n)", answer)
    assert statuses == [b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found"]
    assert answer.count(b'"version": "v1"') == 1, "HEAD carries no body"
    http10 = _exchange(routed.port, b"GET /stream?chunks=3&size=2 HTTP/1.0\r\n\r\n")
    assert http10.startswith(b"HTTP/1.1 200 OK") and http10.endswith(b"\r\n\r\naabbcc")
    assert b"transfer-encoding" not in http10.lower()


def test_builtin_router_outlives_its_controller_and_keeps_its_routes_across_restarts(
    builtin: tuple[RouterLaunch, Routed],
) -> None:
    launch, routed = builtin
    routed.route({"v1": 30, "v2": 70})
    pid = int(routed.router.health()["pid"])  # type: ignore[attr-defined]
    assert os.getsid(pid) == pid, "its own session: killing the controller leaves it running"
    stop_router(routed.router)  # type: ignore[arg-type]
    restarted = ensure_router(launch)
    assert restarted.health()["pid"] != pid
    assert restarted.get_weights() == {"v1": 30, "v2": 70}
    assert set(_versions(routed.url, 40)) == {"v1", "v2"}
    with pytest.raises(RouterError, match="no backends"):
        restarted.set_weights({"v9": 1})


def test_stopping_a_router_returns_once_it_has_drained_and_exited(
    tmp_path_factory: pytest.TempPathFactory,
    hello_backends: dict[str, list[str]],
    wait_for: Callable[..., object],
) -> None:
    launch = RouterLaunch.for_environment(
        tmp_path_factory.mktemp("drain"), "hello", "t", free_port()
    )
    router = ensure_router(launch)
    routed = Routed(router, launch.port, hello_backends)
    routed.route({"v1": 100})
    pid = int(router.health()["pid"])
    result: list[int] = []
    slow = threading.Thread(
        target=lambda: result.append(
            httpx.get(f"{routed.url}/work?ms=1500", timeout=30).status_code
        )
    )
    slow.start()
    wait_for(lambda: router.stats().get("v1") and router.stats()["v1"].in_flight == 1)
    # the control socket closes at once; the process lives on while the request drains
    stop_router(router)
    assert not pid_alive(pid), "stop_router returned while the router still ran"
    slow.join(timeout=30)
    assert result == [200], "the in-flight request was drained, not cut"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", launch.port))  # the port is free for the next router


def test_a_router_that_will_not_drain_is_killed_after_the_timeout(
    tmp_path_factory: pytest.TempPathFactory,
    hello_backends: dict[str, list[str]],
    wait_for: Callable[..., object],
) -> None:
    launch = RouterLaunch.for_environment(
        tmp_path_factory.mktemp("stuck"), "hello", "t", free_port()
    )
    router = ensure_router(launch)
    Routed(router, launch.port, hello_backends).route({"v1": 100})
    pid = int(router.health()["pid"])
    cut: list[BaseException] = []

    def request() -> None:
        try:
            httpx.get(f"http://127.0.0.1:{launch.port}/work?ms=20000", timeout=30)
        except httpx.HTTPError as exc:
            cut.append(exc)

    slow = threading.Thread(target=request, daemon=True)
    slow.start()
    wait_for(lambda: router.stats().get("v1") and router.stats()["v1"].in_flight == 1)
    stop_router(router, timeout=0.5)  # the router's own drain would wait 10 s
    assert not pid_alive(pid)
    slow.join(timeout=30)
    assert cut, "the request in flight was cut by the kill"


def test_a_router_that_cannot_start_reports_its_log(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        launch = RouterLaunch.for_environment(tmp_path_factory.mktemp("taken"), "hello", "t", port)
        with pytest.raises(RouterError, match="in use by another process"):
            ensure_router(launch, timeout=60)
