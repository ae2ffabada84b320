"""The preview port of the routers: every request to the version under preview, counted in
its statistics, 503 when nothing is under preview; on the builtin router process, the
in-process proxy and HAProxy, with real hello instances behind them."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator

import httpx
import pytest

from code_engine.deploy.local.ports import free_port
from code_engine.deploy.router import (
    BuiltinRouter,
    HAProxyRouter,
    HAProxySettings,
    InProcessRouter,
    RouterError,
    RouterLaunch,
    TrafficRouter,
    ensure_router,
    stop_router,
)


class Previewed:
    def __init__(self, router: TrafficRouter, port: int, preview_port: int) -> None:
        self.router = router
        self.url = f"http://127.0.0.1:{port}"
        self.preview_url = f"http://127.0.0.1:{preview_port}"


@pytest.fixture(scope="module", params=["builtin", "inprocess", "haproxy"])
def previewed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    hello_backends: dict[str, list[str]],
) -> Iterator[Previewed]:
    workdir = tmp_path_factory.mktemp(f"preview-{request.param}")
    router: TrafficRouter
    if request.param == "builtin":
        launch = RouterLaunch.for_environment(workdir, "hello", "p", free_port(), free_port())
        router = ensure_router(launch)
        port, preview_port = launch.port, launch.preview_port
    elif request.param == "inprocess":
        router = inprocess = InProcessRouter(preview_port=0)
        port, preview_port = inprocess.port, inprocess.preview_port
    else:
        binary = request.getfixturevalue("haproxy_binary")
        settings = HAProxySettings(
            workdir=workdir, port=free_port(), binary=binary, preview_port=free_port()
        )
        router = HAProxyRouter(settings)
        port, preview_port = settings.port, settings.preview_port
    assert preview_port is not None
    router.set_backends(hello_backends)
    router.set_weights({"v1": 100})
    yield Previewed(router, port, preview_port)
    if isinstance(router, BuiltinRouter):
        stop_router(router, timeout=5)
        router.close()
    elif isinstance(router, InProcessRouter):
        router.close()
    else:
        router.stop()


def _versions(url: str, count: int) -> collections.Counter[str]:
    seen: collections.Counter[str] = collections.Counter()
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(count):
            response = client.get("/")
            ok = response.status_code == 200
            seen[response.json()["version"] if ok else str(response.status_code)] += 1
    return seen


def test_nothing_under_preview_is_a_clear_503(previewed: Previewed) -> None:
    previewed.router.set_preview(None)
    response = httpx.get(previewed.preview_url + "/", timeout=30)
    assert response.status_code == 503
    assert "no version of this service is under preview" in response.text
    assert previewed.router.get_preview() is None


def test_the_preview_port_serves_the_version_under_preview_only(previewed: Previewed) -> None:
    router = previewed.router
    router.set_preview("v2")
    router.reset_stats()
    assert router.get_preview() == "v2"
    assert _versions(previewed.preview_url, 40) == {"v2": 40}
    assert _versions(previewed.url, 40) == {"v1": 40}  # the weights did not move
    stats = router.stats()
    assert (stats["v2"].requests, stats["v2"].errors) == (40, 0)
    assert stats["v1"].requests == 40
    router.set_preview(None)
    assert _versions(previewed.preview_url, 3) == {"503": 3}


def test_errors_on_the_preview_port_count_for_the_previewed_version(
    previewed: Previewed,
) -> None:
    router = previewed.router
    router.set_preview("v2-flaky")  # 1 request in 4 answered 500
    router.reset_stats()
    seen = _versions(previewed.preview_url, 40)
    assert seen == {"v2-flaky": 30, "500": 10}
    flaky = router.stats()["v2-flaky"]
    assert (flaky.requests, flaky.errors) == (40, 10)
    router.set_preview(None)


def test_a_version_without_instances_cannot_be_previewed(previewed: Previewed) -> None:
    with pytest.raises(RouterError, match="no backends"):
        previewed.router.set_preview("v9")


def test_the_builtin_router_keeps_its_preview_across_a_restart(
    tmp_path_factory: pytest.TempPathFactory, hello_backends: dict[str, list[str]]
) -> None:
    workdir = tmp_path_factory.mktemp("preview-restart")
    launch = RouterLaunch.for_environment(workdir, "hello", "r", free_port())  # no preview
    router = ensure_router(launch)
    try:
        assert router.health()["preview_port"] is None
        router.set_backends(hello_backends)
        router.set_weights({"v1": 100})
        router.set_preview("v2")
        assert json.loads(launch.state_path.read_text())["preview"] == "v2"
        preview_port = free_port()
        with_preview = RouterLaunch.for_environment(
            workdir, "hello", "r", launch.port, preview_port
        )
        router = ensure_router(with_preview)  # the running router opens the preview port
        assert router.health()["preview_port"] == preview_port
        assert _versions(f"http://127.0.0.1:{preview_port}", 5) == {"v2": 5}
        stop_router(router)
        router.close()
        router = ensure_router(with_preview)  # a new process, from its state file
        assert router.get_preview() == "v2"
        assert _versions(f"http://127.0.0.1:{preview_port}", 5) == {"v2": 5}
        router.set_backends({"v1": hello_backends["v1"]})  # v2 loses its instances
        response = httpx.get(f"http://127.0.0.1:{preview_port}/", timeout=30)
        assert response.status_code == 503
        assert "the version under preview (v2) has no ready instance" in response.text
    finally:
        stop_router(router)
        router.close()


def test_a_busy_preview_port_is_refused_clearly(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("preview-busy")
    launch = RouterLaunch.for_environment(workdir, "hello", "b", free_port())
    router = ensure_router(launch)
    try:
        with pytest.raises(RouterError, match=f"cannot listen on preview port {launch.port}"):
            router.listen_preview(launch.port)
        with pytest.raises(RouterError, match="preview port must be 1-65535"):
            router.listen_preview(0)
        busy = RouterLaunch.for_environment(workdir, "hello", "b", launch.port, launch.port)
        again = ensure_router(busy)
        assert again.health()["preview_port"] is None  # the main port serves on
        again.close()
    finally:
        stop_router(router)
        router.close()


def test_a_running_haproxy_gets_the_preview_port_it_lacks(
    tmp_path_factory: pytest.TempPathFactory,
    hello_backends: dict[str, list[str]],
    haproxy_binary: str,
) -> None:
    workdir = tmp_path_factory.mktemp("preview-haproxy-upgrade")
    port = free_port()
    old = HAProxyRouter(HAProxySettings(workdir=workdir, port=port, binary=haproxy_binary))
    old.set_backends(hello_backends)
    old.set_weights({"v1": 100})
    try:
        settings = HAProxySettings(
            workdir=workdir, port=port, binary=haproxy_binary, preview_port=free_port()
        )
        new = HAProxyRouter(settings)
        new.ensure_running()  # reloads: the running configuration has no preview frontend
        new.set_preview("v2")
        preview_url = f"http://127.0.0.1:{settings.preview_port}"
        assert _versions(preview_url, 4) == {"v2": 4}
        assert _versions(f"http://127.0.0.1:{port}", 4) == {"v1": 4}
        assert len(new.pids()) >= 1
    finally:
        old.stop()
