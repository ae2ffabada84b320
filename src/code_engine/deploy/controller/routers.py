"""The router in front of an environment: CODE's builtin proxy process or an HAProxy."""

from __future__ import annotations

import json
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


def router_port(data_dir: Path, service: str, environment: str, plan: RouterPlan) -> int:
    """The port of the spec, or one picked once for the environment and kept."""
    if plan.port is not None:
        return plan.port
    path = run_dir(data_dir, service, environment) / "router-port.json"
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["port"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    port = free_port(HOST)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"port": port}) + "\n", encoding="utf-8")
    return port


def open_router(
    data_dir: Path, service: str, environment: str, plan: RouterPlan
) -> tuple[TrafficRouter, str]:
    """The environment's running router (started if needed) and the URL it serves on."""
    port = router_port(data_dir, service, environment, plan)
    if plan.kind == "haproxy":
        workdir = run_dir(data_dir, service, environment) / "haproxy"
        haproxy = HAProxyRouter(HAProxySettings(workdir=workdir, port=port, host=HOST))
        haproxy.ensure_running()
        return haproxy, f"http://{HOST}:{port}"
    launch = RouterLaunch.for_environment(data_dir, service, environment, port)
    builtin = ensure_router(launch)
    actual = int(builtin.health().get("port", port))
    return builtin, f"http://{HOST}:{actual}"
