"""The engine as real processes (server, worker), service repositories and a load generator."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.support.git import git
from tests.support.local_down import codectl_down
from tests.support.network import free_port
from tests.support.pipeline_runs import passing_run
from tests.support.waiting import scaled, wait_until

from code_engine.deploy.router import BuiltinRouter, HAProxyRouter, HAProxySettings
from code_engine.deploy.router.launch import control_socket_path

ENTRY = Path(__file__).with_name("codectl_entry.py")
HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello" / "app.py"
FINAL = ("succeeded", "failed", "rolled_back")
CLIENT_ID, CLIENT_SECRET = "e2e-admin", "e2e-secret-for-tests-only"  # pragma: allowlist secret


__all__ = ["Engine", "Load", "ServiceRepo", "free_port", "wait_until"]


@dataclass
class Engine:
    """`codectl server --no-worker` and `codectl worker` on one database and data dir."""

    root: Path
    database_url: str
    port: int = field(default_factory=free_port)
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_")}
        env.update(
            CODE_DATA_DIR=str(self.data_dir),
            CODE_DATABASE_URL=self.database_url,
            CODE_PORT=str(self.port),
            CODE_BOOTSTRAP_CLIENT_ID=CLIENT_ID,
            CODE_BOOTSTRAP_CLIENT_SECRET=CLIENT_SECRET,
            CODE_LOG_FORMAT="console",
            CODE_ACCESS_TOKEN_TTL_SECONDS="86400",  # one token for the whole suite
            CODE_SERVER=self.url,
            XDG_CONFIG_HOME=str(self.root / "config"),
            NO_COLOR="1",
            # the services here run CODE's own interpreter, which may sit where no other
            # user can reach it; test_instance_isolation.py runs instances as their own user
            CODE_INSTANCE_USER="self",
        )
        if self.token:
            env["CODE_TOKEN"] = self.token
        return env

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"{name}.log").open("ab")
        return subprocess.Popen(  # noqa: S603
            [sys.executable, str(ENTRY), *args], env=self.env(), stdout=log, stderr=log
        )

    def start(self, worker: bool = True) -> None:
        self.server = self._spawn("server", "server", "--no-worker")

        def ready() -> bool:
            try:
                return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 60, "the server")
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
        form["client_secret"] = CLIENT_SECRET
        self.token = httpx.post(f"{self.url}/oauth/token", data=form).json()["access_token"]
        if worker:
            self.start_worker()

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", "worker", "--poll", "0.2")

    def kill_worker(self) -> None:
        """SIGKILL: no cleanup at all, as a crash would leave things."""
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(30)
        self.worker = None

    def api(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, **params: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        response = httpx.request(
            method, f"{self.url}{path}", json=body, params=params, headers=headers, timeout=60
        )
        assert response.status_code < 400, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json()

    def deployment(self, deployment_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.api("GET", f"/api/v1/deployments/{deployment_id}")
        return result

    def wait(
        self, deployment_id: int, statuses: tuple[str, ...] = FINAL, timeout: float = 120
    ) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            found = self.deployment(deployment_id)
            return found if found["status"] in statuses else None

        result: dict[str, Any] = wait_until(
            done, timeout, f"deployment {deployment_id} {statuses}", 0.1
        )
        return result

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, str(ENTRY), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=scaled(timeout),
            check=False,
        )

    def stop(self) -> None:
        for proc in (self.worker, self.server):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        # routers and instances outlive the worker: stopped as a user does (their control
        # socket may be a short path outside the data directory)
        codectl_down(self.data_dir)

    def instances(self, service: str, environment: str) -> dict[str, list[str]]:
        """Versions with live instances, read from the supervisor's state file."""
        path = self.data_dir / "run" / service / environment / "instances.json"
        data = json.loads(path.read_text()) if path.exists() else {"instances": []}
        versions: dict[str, list[str]] = {}
        for record in data["instances"]:
            versions.setdefault(record["version"], []).append(record["state"])
        return versions

    def weights(self, service: str, environment: str) -> dict[str, int]:
        run = self.data_dir / "run" / service / environment
        if (run / "haproxy").is_dir():
            haproxy = HAProxyRouter(HAProxySettings(run / "haproxy", port=1))
            return {v: w for v, w in haproxy.get_weights().items() if w}
        router = BuiltinRouter(str(control_socket_path(run)))
        try:
            return {v: w for v, w in router.get_weights().items() if w}
        finally:
            router.close()


@dataclass
class ServiceRepo:
    """A git repository of a `hello` service whose code.yaml each release rewrites."""

    path: Path
    name: str
    environments: tuple[str, ...] = ("prod",)
    ports: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = {env: free_port() for env in self.environments}

    @property
    def environment(self) -> str:
        return self.environments[-1]

    def create(self, engine: Engine, register: bool = True) -> None:
        self.path.mkdir(parents=True)
        self._git("init", "-q", "-b", "main")
        shutil.copyfile(HELLO, self.path / "app.py")
        if register:
            envs = [{"name": env} for env in self.environments]
            body = {"name": self.name, "repo": str(self.path), "environments": envs}
            engine.api("POST", "/api/v1/services", body)

    def _git(self, *args: str) -> str:
        return git(self.path, *args)

    def write(
        self,
        version: str,
        steps: str,
        *,
        env: Mapping[str, str] | None = None,
        slos: str = "{error_rate_percent: 1, p95_latency_ms: 200}",
        router: str = "builtin",
        module: str = "uvicorn",
    ) -> str:
        """Commit the spec of `version`; returns the commit."""
        variables = "".join(f'\n        {k}: "{v}"' for k, v in (env or {}).items())
        command = (
            f"{sys.executable} -m {module} app:app --host 127.0.0.1 --port {{port}} --no-access-log"
        )
        blocks = []
        for index, name in enumerate(self.environments):
            protection = "\n    protection: {requires_previous: true}" if index else ""
            blocks.append(f"""\
  - name: {name}{protection}
    target:
      kind: local
      command: "{command}"
      port: {self.ports[name]}{self.target_extra(name)}
      router: {router}
      env:
        HELLO_VERSION: "{{version}}"{variables}
    strategy:{self.strategy(steps)}
""")
        spec = f"service: {self.name}\nrepo: .\nenvironments:\n{''.join(blocks)}slos: {slos}\n"
        (self.path / "code.yaml").write_text(spec)
        (self.path / "VERSION").write_text(version + "\n")
        self._git("add", "-A")
        self._git("commit", "-q", "-m", f"feat: {version}")
        return self._git("rev-parse", "HEAD")

    def target_extra(self, environment: str) -> str:
        """More lines of an environment's `target` (each starting with a newline)."""
        return ""

    def strategy(self, steps: str) -> str:
        """What follows `strategy:`: a canary with these `steps`."""
        return f"\n      kind: canary\n      steps: {steps}"

    def qualify(self, engine: Engine, sha: str) -> None:
        """Record a passing pipeline run of `sha`: prod requires one by default."""
        engine.api("POST", "/api/v1/pipeline/runs", passing_run(self.name, sha))

    def release(self, engine: Engine, version: str, steps: str, **options: Any) -> str:
        """Commit the spec of `version`, record a passing pipeline run of it, and record the
        release through the API."""
        sha = self.write(version, steps, **options)
        self.qualify(engine, sha)
        engine.api(
            "POST", "/api/v1/releases", {"service": self.name, "version": version, "sha": sha}
        )
        return sha

    def deploy(self, engine: Engine, version: str) -> int:
        body = {
            "service": self.name,
            "environment": self.environment,
            "version": version,
            "run": True,
        }
        return int(engine.api("POST", "/api/v1/deployments", body)["id"])

    def first(self, engine: Engine, steps: str, **options: Any) -> None:
        """Release and deploy v1: a first deployment goes straight to 100%."""
        self.release(engine, "v1", steps, **options)
        done = engine.wait(self.deploy(engine, "v1"))
        assert done["status"] == "succeeded", done["message"]
        assert done["strategy"] == "all_at_once"  # nothing to shift traffic from

    def url_of(self, environment: str) -> str:
        return f"http://127.0.0.1:{self.ports[environment]}"

    @property
    def url(self) -> str:
        return self.url_of(self.environment)

    def serving(self, environment: str | None = None) -> str:
        url = self.url_of(environment or self.environment)
        return str(httpx.get(url + "/", timeout=10).json()["version"])


class Load:
    """Closed-loop clients on keep-alive connections, counting every outcome."""

    def __init__(self, url: str, clients: int = 3, path: str = "/") -> None:
        self.url, self.path, self.clients = url, path, clients
        self.statuses: Counter[int] = Counter()
        self.versions: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Load:
        for _ in range(self.clients):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(self.path)
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.failures.append(repr(exc))
                    time.sleep(0.05)
                    continue
                with self._lock:
                    self.statuses[response.status_code] += 1
                    if response.status_code == 200:
                        self.versions[response.json()["version"]] += 1
                time.sleep(0.005)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def lost(self) -> int:
        return len(self.failures) + sum(n for s, n in self.statuses.items() if s != 200)
