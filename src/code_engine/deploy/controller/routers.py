"""The router in front of an environment: CODE's builtin proxy process or an HAProxy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from code_engine.deploy.local.logfiles import safe_name
from code_engine.deploy.local.ports import free_port
from code_engine.deploy.plan import RouterPlan
from code_engine.deploy.router import (
    HAProxyRouter,
    HAProxySettings,
    RouterLaunch,
    TrafficRouter,
    ensure_router,
)

HOST = "127.0.0.1"


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


@dataclass(frozen=True)
class OpenRouter:
    """An environment's running router and the URLs it serves on."""

    router: TrafficRouter
    url: str
    preview_url: str


def open_router(data_dir: Path, service: str, environment: str, plan: RouterPlan) -> OpenRouter:
    """The environment's running router (started if needed) and its URLs."""
    port, preview_port = router_ports(data_dir, service, environment, plan)
    preview_url = f"http://{HOST}:{preview_port}"
    if plan.kind == "haproxy":
        workdir = run_dir(data_dir, service, environment) / "haproxy"
        settings = HAProxySettings(workdir=workdir, port=port, host=HOST, preview_port=preview_port)
        settings = settings.with_limits(plan.limits)
        haproxy = HAProxyRouter(settings)
        haproxy.ensure_running()
        return OpenRouter(haproxy, f"http://{HOST}:{port}", preview_url)
    launch = RouterLaunch.for_environment(
        data_dir, service, environment, port, preview_port, plan.limits
    )
    builtin = ensure_router(launch)
    actual = int(builtin.health().get("port", port))
    return OpenRouter(builtin, f"http://{HOST}:{actual}", preview_url)
