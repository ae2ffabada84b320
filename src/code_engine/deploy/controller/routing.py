"""The router as the local target drives it: a small `Router` interface, the adapter that
puts CODE's traffic routers behind it, and the registry that opens one per environment.

The data-plane routers (`deploy.router`) keep their full interface (`TrafficRouter`); the
controller needs only this: read the routes, change them, check that the data plane really
applies the weights, read and reset per-version statistics, and wait for a version to
become idle before it is stopped. A new router kind is one `ROUTERS` entry.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from code_engine.deploy.local.logfiles import safe_name
from code_engine.deploy.local.ports import free_port
from code_engine.deploy.plan import RouterPlan
from code_engine.deploy.router import (
    HAProxyRouter,
    HAProxySettings,
    RouterLaunch,
    TrafficRouter,
    VersionStats,
    ensure_router,
)
from code_engine.deploy.router.config import ProxyConfig
from code_engine.errors import ConfigError

HOST = "127.0.0.1"


class Keep(enum.Enum):
    """Leave this part of the routes as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class Routes:
    """What a router applies: instances per version, weights, the version under preview."""

    backends: Mapping[str, Sequence[str]] = field(default_factory=dict)
    weights: Mapping[str, int] = field(default_factory=dict)
    preview: str | None = None


@dataclass(frozen=True)
class RouteChange:
    """A change of routes; a part left to `None` (`KEEP` for the preview) is not touched.
    Applied in this order: backends, weights, preview (weight needs backends first)."""

    backends: Mapping[str, Sequence[str]] | None = None
    weights: Mapping[str, int] | None = None
    preview: str | None | Keep = KEEP


class Router(Protocol):
    """What the controller needs of the router in front of an environment."""

    def routes(self) -> Routes:
        """The routes the router applies now (raises `RouterError` when it cannot be asked)."""

    def change(self, change: RouteChange) -> None:
        """Apply a change of routes."""

    def verify(self, weights: Mapping[str, int]) -> bool:
        """Whether the data plane really applies `weights` (versions left out count as 0)."""

    def stats(self) -> dict[str, VersionStats]:
        """Requests, 5xx and latencies per version since the last reset."""

    def reset_stats(self) -> None:
        """Start counting from zero (at the beginning of an analysis window)."""

    def wait_idle(self, version: str, timeout: float) -> bool:
        """Wait until `version` has no request in flight; False if `timeout` passed first."""


class TrafficRouterPort:
    """A `TrafficRouter` (builtin proxy, HAProxy) behind the controller's `Router`."""

    def __init__(self, router: TrafficRouter) -> None:
        self.router = router

    def routes(self) -> Routes:
        return Routes(
            self.router.get_backends(), self.router.get_weights(), self.router.get_preview()
        )

    def change(self, change: RouteChange) -> None:
        if change.backends is not None:
            self.router.set_backends(change.backends)
        if change.weights is not None:
            self.router.set_weights(dict(change.weights))
        if change.preview is not KEEP:
            self.router.set_preview(change.preview)

    def verify(self, weights: Mapping[str, int]) -> bool:
        return self.router.verify_weights(weights)

    def stats(self) -> dict[str, VersionStats]:
        return self.router.stats()

    def reset_stats(self) -> None:
        self.router.reset_stats()

    def wait_idle(self, version: str, timeout: float) -> bool:
        return self.router.wait_idle(version, timeout)


@dataclass(frozen=True)
class RouterSite:
    """Where an environment's router runs: its files and the ports it listens on."""

    data_dir: Path
    service: str
    environment: str
    port: int
    preview_port: int
    limits: ProxyConfig | None = None  # timeouts and header limits; None: the defaults

    @property
    def run_dir(self) -> Path:
        return run_dir(self.data_dir, self.service, self.environment)


@dataclass(frozen=True)
class OpenRouter:
    """An environment's running router and the URLs it serves on."""

    router: Router
    url: str
    preview_url: str


RouterOpener = Callable[[RouterSite], OpenRouter]


def open_builtin(site: RouterSite) -> OpenRouter:
    """CODE's own weighted proxy, as a process of its own (started when not running)."""
    launch = RouterLaunch.for_environment(
        site.data_dir, site.service, site.environment, site.port, site.preview_port, site.limits
    )
    builtin = ensure_router(launch)
    actual = int(builtin.health().get("port", site.port))
    return OpenRouter(
        TrafficRouterPort(builtin), f"http://{HOST}:{actual}", f"http://{HOST}:{site.preview_port}"
    )


def open_haproxy(site: RouterSite) -> OpenRouter:
    """An HAProxy CODE configures and steers through its runtime API."""
    settings = HAProxySettings(
        workdir=site.run_dir / "haproxy", port=site.port, host=HOST, preview_port=site.preview_port
    )
    if site.limits is not None:
        settings = settings.with_limits(site.limits)
    haproxy = HAProxyRouter(settings)
    haproxy.ensure_running()
    return OpenRouter(
        TrafficRouterPort(haproxy),
        f"http://{HOST}:{site.port}",
        f"http://{HOST}:{site.preview_port}",
    )


# `target.router` of code.yaml -> how to open it
ROUTERS: dict[str, RouterOpener] = {"builtin": open_builtin, "haproxy": open_haproxy}


def run_dir(data_dir: Path, service: str, environment: str) -> Path:
    return data_dir / "run" / safe_name(service) / safe_name(environment)


def router_ports(
    data_dir: Path, service: str, environment: str, plan: RouterPlan
) -> tuple[int, int]:
    """The router's port and its preview port: the spec's, or ones picked once for the
    environment and kept (in `router-port.json`)."""
    path = run_dir(data_dir, service, environment) / "router-port.json"
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    kept = kept if isinstance(kept, dict) else {}
    configured = {"port": plan.port, "preview_port": plan.preview_port}
    ports: dict[str, int] = {k: v for k, v in configured.items() if v is not None}
    for key in ("port", "preview_port"):
        value = kept.get(key)
        if key not in ports and isinstance(value, int) and value not in ports.values():
            ports[key] = value
    if len(ports) < len(configured):
        for key in configured:
            while key not in ports or list(ports.values()).count(ports[key]) > 1:
                ports[key] = kept[key] = free_port(HOST)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(kept) + "\n", encoding="utf-8")
    return ports["port"], ports["preview_port"]


def open_router(
    data_dir: Path,
    service: str,
    environment: str,
    plan: RouterPlan,
    routers: Mapping[str, RouterOpener] = ROUTERS,
) -> OpenRouter:
    """The environment's running router (started if needed) and its URLs."""
    opener = routers.get(plan.kind)
    if opener is None:
        known = ", ".join(sorted(routers))
        raise ConfigError(f"{service}/{environment}: unknown router {plan.kind!r} (known: {known})")
    port, preview_port = router_ports(data_dir, service, environment, plan)
    return opener(RouterSite(data_dir, service, environment, port, preview_port, plan.limits))
