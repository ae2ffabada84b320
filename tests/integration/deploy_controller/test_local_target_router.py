"""The local target with a router from an injected registry (an in-memory `FakeRouter`):
reconciliation drops routes no deployment owns, weight before backends; reassert repairs
only what differs; an unknown router kind is a clear error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from code_engine.deploy.controller.local_target import LocalOptions, LocalTarget
from code_engine.deploy.controller.routing import OpenRouter, RouterSite
from code_engine.deploy.controller.target import Reconciled, TargetSite
from code_engine.deploy.plan import RouterPlan
from code_engine.errors import ConfigError
from code_engine.testing import FakeRouter


@pytest.fixture
def router() -> FakeRouter:
    return FakeRouter()


@pytest.fixture
def target(data_dir: Path, router: FakeRouter) -> Iterator[LocalTarget]:
    def open_fake(site: RouterSite) -> OpenRouter:
        return OpenRouter(router, f"fake://{site.port}", f"fake://{site.preview_port}")

    options = LocalOptions(routers={"fake": open_fake}, monitor_interval=60)
    made = LocalTarget(TargetSite("shop", "prod", data_dir, RouterPlan(kind="fake")), options)
    yield made
    made.close()


def test_reconcile_drops_the_routes_of_versions_no_deployment_owns(
    target: LocalTarget, router: FakeRouter
) -> None:
    router.backends = {"v1": ["127.0.0.1:1"], "v0": ["127.0.0.1:2"], "v9": ["127.0.0.1:3"]}
    router.weights = {"v1": 90, "v0": 0, "v9": 10}  # a stale weight-0 entry, and traffic
    assert target.reconcile({"v1"}) == Reconciled((), ("v0", "v9"))
    assert router.routes().backends == {"v1": ["127.0.0.1:1"]}
    assert router.routes().weights == {"v1": 90}
    assert [c.weights for c in router.changes] == [{"v1": 90}, None]  # weight first
    assert target.reconcile({"v1"}) == Reconciled()  # nothing left to do
    assert len(router.changes) == 2


def test_reassert_repairs_only_what_differs(target: LocalTarget, router: FakeRouter) -> None:
    router.backends = {"v1": ["127.0.0.1:1"]}
    assert target.reassert("v1") == ["weights"]
    assert router.weights == {"v1": 100}
    assert target.reassert("v1") == []
    router.preview = "v1"
    assert target.reassert("v1") == ["preview"]


def test_a_router_kind_without_an_entry_is_refused(data_dir: Path) -> None:
    site = TargetSite("shop", "prod", data_dir, RouterPlan(kind="envoy"))
    with pytest.raises(ConfigError, match="unknown router 'envoy' \\(known: builtin, haproxy\\)"):
        LocalTarget(site, LocalOptions(monitor_interval=60))
