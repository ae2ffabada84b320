"""Stopping what the local target runs: every environment's instances and router.

Instances and routers are processes of their own that outlive the worker (a restarted
worker adopts them). `codectl down` (and the end of `make dev-run`) stops them for good;
a worker still running would start them again, so it is stopped first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from code_engine.deploy.local import Supervisor
from code_engine.deploy.router import BuiltinRouter, HAProxyRouter, HAProxySettings, stop_router
from code_engine.deploy.router.launch import control_socket_path, router_process_path


@dataclass(frozen=True)
class Stopped:
    """What was stopped in one service environment."""

    service: str
    environment: str
    versions: tuple[str, ...]
    router: bool


def local_environments(data_dir: Path) -> list[tuple[str, str]]:
    """(service, environment) of every environment with run state in `data_dir`."""
    run = data_dir / "run"
    if not run.is_dir():
        return []
    return sorted((d.parent.name, d.name) for d in run.glob("*/*") if d.is_dir())


def stop_environment(data_dir: Path, service: str, environment: str, grace: float) -> Stopped:
    """Stop the instances of every version, then the router, of one environment."""
    supervisor = Supervisor(service, environment, data_dir)
    versions = tuple(supervisor.versions())
    supervisor.stop_all(grace)
    run_dir = supervisor.run_dir
    router = BuiltinRouter(str(control_socket_path(run_dir)), timeout=3.0)
    try:  # one that does not answer (stopped, hung) is found by its process file
        stopped = stop_router(router, grace + 5.0, recorded=router_process_path(run_dir))
    finally:
        router.close()
    if (run_dir / "haproxy").is_dir():
        haproxy = HAProxyRouter(HAProxySettings(run_dir / "haproxy", port=1))
        if haproxy.pids():
            haproxy.stop()
            stopped = True
    return Stopped(service, environment, versions, stopped)


def stop_local(
    data_dir: Path, service: str | None = None, environment: str | None = None, grace: float = 10.0
) -> list[Stopped]:
    """Stop the environments of `data_dir` (those of `service`, or only `environment`)."""
    return [
        stop_environment(data_dir, s, e, grace)
        for s, e in local_environments(data_dir)
        if service in (None, s) and environment in (None, e)
    ]
