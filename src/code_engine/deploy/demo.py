"""The demo: the `hello` example delivered to `dev` — a first release, a healthy canary,
then a release failing 1 request in 20 that the analysis rolls back.

It builds its own small service repository (hello's `app.py` and a `code.yaml` with a
short canary) under the data directory, and drives the deployments through the same
service functions as the API; a running worker does the rollouts.
"""

from __future__ import annotations

import shutil
import subprocess  # noqa: S404 - git with fixed argument lists
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from code_engine.auth.roles import Binding, Role
from code_engine.catalog.store import (
    EnvironmentDraft,
    create_service,
    find_service,
    require_service,
)
from code_engine.clock import Clock
from code_engine.deploy import store
from code_engine.deploy.gitrepo import open_repository
from code_engine.deploy.releases import create_release
from code_engine.deploy.service import Actor, DeployContext, DeployRequest, start_deployment
from code_engine.errors import ConflictError
from code_engine.store.engine import Database

SERVICE = "hello"
ACTOR = Actor("demo", frozenset({Binding(Role.admin)}))
SPEC = """\
service: hello
repo: .
description: The example service of CODE's demo.
environments:
  - name: dev
    target:
      kind: local
      command: "{launcher} -m uvicorn app:app --host 127.0.0.1 --port {{port}} --no-access-log"
      port: {port}
      env:
        HELLO_VERSION: "{{version}}"
        HELLO_ERROR_RATE: "{error_rate}"
    strategy:
      kind: canary
      steps:
        - set_weight: 25
        - pause: {{duration: 5s}}
        - set_weight: 50
        - analysis: {{interval: 5s, count: 3, min_requests: 20}}
slos:
  error_rate_percent: 1
  p95_latency_ms: 250
"""
RELEASES = (("1.0.0", "0"), ("1.1.0", "0"), ("1.2.0", "0.05"))


@dataclass(frozen=True)
class DemoEvent:
    """One line of the demo's story."""

    version: str
    status: str
    message: str
    url: str | None = None


def _git(repo: Path, *args: str) -> None:
    identity = ("-c", "user.name=CODE demo", "-c", "user.email=demo@code.invalid")
    subprocess.run(["git", *identity, "-C", str(repo), *args], check=True, capture_output=True)  # noqa: S603, S607


def commit_release(repo: Path, example: Path, port: int, version: str, error_rate: str) -> None:
    """Write hello's app and the spec of `version` into `repo` and commit them."""
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "-q", "-b", "main")
    shutil.copyfile(example / "app.py", repo / "app.py")
    # the engine's own interpreter has uvicorn: no download, the demo works offline
    spec = SPEC.format(launcher=sys.executable, port=port, error_rate=error_rate)
    (repo / "code.yaml").write_text(spec, encoding="utf-8")
    (repo / "CHANGES").write_text(f"{version}\n", encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", f"feat: hello {version}")


def traffic(url: str, stop: threading.Event, rate: float = 20.0) -> None:
    """A gentle load so that the analysis has requests to judge."""
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            try:
                client.get(url)
            except httpx.HTTPError:
                pass
            stop.wait(1 / rate)


def run_demo(
    db: Database,
    data_dir: Path,
    example: Path,
    clock: Clock,
    port: int = 18080,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 300.0,
) -> Iterator[DemoEvent]:
    """Deploy the three releases one after the other; yields what happens."""
    repo = data_dir / "demo" / SERVICE

    def context() -> DeployContext:
        return DeployContext(clock(), data_dir, lambda path: open_repository(path, data_dir))

    with db.session() as session:
        existing = find_service(session, SERVICE)
        if existing is not None and existing.repo != str(repo):
            raise ConflictError(
                f"a service {SERVICE!r} from {existing.repo} exists; run the demo with its "
                "own data directory (CODE_DATA_DIR)"
            )
        if existing is None:
            create_service(
                session, SERVICE, str(repo), "CODE's demo", [EnvironmentDraft("dev")], clock()
            )
    stop = threading.Event()
    load: threading.Thread | None = None
    try:
        for version, error_rate in RELEASES:
            commit_release(repo, example, port, version, error_rate)
            request = DeployRequest(SERVICE, "dev", version, trigger="demo")
            with db.session() as session:
                service_id = require_service(session, SERVICE).id
                if store.find_release(session, service_id, version) is None:
                    create_release(session, context(), ACTOR, SERVICE, version)
                deployment_id = start_deployment(session, context(), ACTOR, request).id
            yield DemoEvent(version, "pending", f"deployment {deployment_id} created")
            last = ""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with db.session() as session:
                    row = store.get_deployment(session, deployment_id)
                    status, message, url = row.status, row.message, row.state.get("url")
                if url and load is None:
                    load = threading.Thread(target=traffic, args=(url, stop), daemon=True)
                    load.start()
                if f"{status}{message}" != last:
                    last = f"{status}{message}"
                    yield DemoEvent(version, status, message, url)
                if status in store.FINAL_STATUSES:
                    break
                sleep(0.5)
            else:
                yield DemoEvent(
                    version, "timeout", "no worker moved it: is codectl server running?"
                )
                return
    finally:
        stop.set()
