"""The controller's runtime against a real builtin router process: re-asserting the routes
a finished deployment left, noticing a router that lost what it was given, and pointing
the preview port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from code_engine.deploy.controller.local_target import LocalOptions, LocalTarget
from code_engine.deploy.controller.routing import TrafficRouterPort
from code_engine.deploy.controller.target import TargetSite
from code_engine.deploy.local import InstanceInfo, InstanceState
from code_engine.deploy.plan import RouterPlan
from code_engine.deploy.router import BuiltinRouter, stop_router


def _ready(version: str, addresses: list[str]) -> list[InstanceInfo]:
    infos = []
    for index, address in enumerate(addresses):
        host, _, port = address.rpartition(":")
        infos.append(
            InstanceInfo(version, index, int(port), 0, InstanceState.READY, 0.0, 0, Path("x"), host)
        )
    return infos


@pytest.fixture
def runtime(data_dir: Path) -> Iterator[LocalTarget]:
    site = TargetSite("hello", "reassert", data_dir, RouterPlan())
    made = LocalTarget(site, LocalOptions(monitor_interval=60))
    yield made
    made.close()
    stop_router(raw(made), timeout=5)
    raw(made).close()


def raw(target: LocalTarget) -> BuiltinRouter:
    """The builtin router behind the target's `Router`."""
    assert isinstance(target.router, TrafficRouterPort)
    assert isinstance(target.router.router, BuiltinRouter)
    return target.router.router


def _version(url: str) -> str:
    return str(httpx.get(url + "/", timeout=10).json()["version"])


def test_reassert_repairs_only_what_differs(
    runtime: LocalTarget, hello_backends: dict[str, list[str]]
) -> None:
    infos = _ready("v1", hello_backends["v1"])
    assert runtime.reassert("v1", infos) == ["backends", "weights"]  # a new, empty router
    assert _version(runtime.url) == "v1"
    assert runtime.reassert("v1", infos) == []
    raw(runtime).set_preview("v1")
    assert runtime.reassert("v1", infos) == ["preview"]
    raw(runtime).set_weights({})  # e.g. restarted without its state file
    assert runtime.reassert("v1", infos) == ["weights"]
    assert _version(runtime.url) == "v1"


def test_reassert_starts_a_router_that_is_gone(
    runtime: LocalTarget, hello_backends: dict[str, list[str]], data_dir: Path
) -> None:
    infos = _ready("v1", hello_backends["v1"])
    runtime.reassert("v1", infos)
    stop_router(raw(runtime))
    (data_dir / "run" / "hello" / "reassert" / "router.json").unlink()
    assert runtime.reassert("v1", infos) == ["router", "backends", "weights"]
    assert _version(runtime.url) == "v1"
    kept = json.loads((data_dir / "run" / "hello" / "reassert" / "router-port.json").read_text())
    assert runtime.url.endswith(f":{kept['port']}")  # the same stable port as before


def test_a_router_that_lost_its_backends_or_preview_gets_them_again(
    runtime: LocalTarget, hello_backends: dict[str, list[str]]
) -> None:
    infos = _ready("v1", hello_backends["v1"]) + _ready("v2", hello_backends["v2"])
    runtime.sync_backends(infos, {"v1": 100})
    raw(runtime).set_weights({"v1": 100})
    runtime.preview("v2")
    assert _version(runtime.preview_url) == "v2"
    assert runtime.check_router() is True
    raw(runtime).set_preview(None)  # behind the runtime's back
    runtime.preview("v2")  # it believes the router still previews v2
    assert raw(runtime).get_preview() is None
    assert runtime.check_router() is False
    runtime.preview("v2")
    runtime.sync_backends(infos, {"v1": 100})
    assert raw(runtime).get_preview() == "v2"
    assert runtime.check_router() is True
    runtime.preview(None)
    assert httpx.get(runtime.preview_url + "/", timeout=10).status_code == 503
    stop_router(raw(runtime))
    assert runtime.check_router() is False  # gone: started again, from its state file
    assert raw(runtime).get_weights() == {"v1": 100}
