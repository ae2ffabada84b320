"""Automatic rollback time: from the first failed request of a bad canary to its weight 0.

Runs the real thing: the `hello` example as supervised processes behind CODE's builtin
router, a worker (the rollout controller, default poll) on SQLite, and paced clients
(200 requests/s in all by default). The canary of each run answers 1 request in 20 with a
500; the analysis uses the default settings of code.yaml (`analysis: {}`: 5 measurements a
minute apart, at least 100 requests each, fail-fast) judged against the default SLOs
(0.1 % errors, p95 200 ms). Each run prints a JSON line; the summary compares the median
against the target (10 s), and the time the canary was routed against the floor set by
traffic: the time it needs to receive `min_requests` requests at its share of the load,
plus one controller tick.

Then a canary that hangs every request (`HELLO_SLOW_RATE=1`, 60 s each) is deployed
`--hang-runs` times: the time from its first routed weight to weight 0 is compared with
the target of two analysis intervals (2 minutes at the defaults). Before hung requests
counted, such a canary was judged "inconclusive: 0 requests" and kept its weight.

    python benchmarks/rollback.py [--runs 3] [--hang-runs 2] [--clients 8] [--rps 200] [--weight 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from code_engine.auth.roles import Binding, Role
from code_engine.catalog.store import EnvironmentDraft, create_service
from code_engine.clock import utc_now
from code_engine.deploy.gitrepo import open_repository
from code_engine.deploy.local import Supervisor
from code_engine.deploy.local.ports import free_port
from code_engine.deploy.releases import create_release
from code_engine.deploy.router import BuiltinRouter, stop_router
from code_engine.deploy.service import Actor, DeployContext, DeployRequest, start_deployment
from code_engine.store.engine import Database, make_database
from code_engine.store.migrate import upgrade
from code_engine.worker import WorkerConfig, start_worker_thread

TARGET_SECONDS = 10.0
MIN_REQUESTS = 100  # the default of `analysis.min_requests`
ANALYSIS_INTERVAL = 60.0  # the default of `analysis.interval`
HANG = {"HELLO_SLOW_RATE": "1", "HELLO_SLOW_MS": "60000"}
POLL = 0.5  # the worker's default tick
HELLO = Path(__file__).resolve().parents[1] / "examples" / "hello" / "app.py"
ACTOR = Actor("benchmark", frozenset({Binding(Role.admin)}))
SPEC = """\
service: bench
repo: .
environments:
  - name: prod
    target:
      kind: local
      command: "{python} -m uvicorn app:app --host 127.0.0.1 --port {{port}} --no-access-log"
      port: {port}
      env: {{HELLO_VERSION: "{{version}}"{env}}}
    strategy:
      kind: canary
      steps: [{{set_weight: {weight}}}, {{analysis: {{}}}}]
"""


def emit(**figure: object) -> None:
    sys.stdout.write(json.dumps(figure) + "\n")
    sys.stdout.flush()


class Load:
    """Paced clients; remembers when the first and last 500 were answered."""

    def __init__(self, url: str, clients: int, rps: float) -> None:
        self.url, self.clients = url, clients
        self.interval = clients / rps  # each client's pace
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.first_error: float | None = None
        self.last_error: float | None = None
        self.done = 0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            due = time.monotonic()
            while not self.stop.is_set():
                due += self.interval
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    status = client.get(self.url).status_code
                except httpx.HTTPError:
                    status = 599
                now = time.monotonic()
                with self.lock:
                    self.done += 1
                    if status >= 500:
                        self.first_error = self.first_error or now
                        self.last_error = now

    def reset(self) -> None:
        with self.lock:
            self.first_error = self.last_error = None

    def rate(self, seconds: float = 2.0) -> float:
        before = self.done
        time.sleep(seconds)
        return (self.done - before) / seconds


class Bench:
    def __init__(self, root: Path, weight: int) -> None:
        self.root, self.weight = root, weight
        self.data_dir = root / "data"
        self.repo = root / "bench"
        self.port = free_port()
        self.db: Database = make_database(f"sqlite:///{root / 'code.db'}")
        upgrade(self.db.engine)

    def context(self) -> DeployContext:
        return DeployContext(utc_now(), self.data_dir, lambda r: open_repository(r, self.data_dir))

    def git(self, *args: str) -> None:
        identity = ("-c", "user.name=b", "-c", "user.email=b@example.test")
        subprocess.run(["git", *identity, "-C", str(self.repo), *args], check=True)  # noqa: S603, S607

    def setup(self) -> None:
        self.repo.mkdir()
        self.git("init", "-q", "-b", "main")
        shutil.copyfile(HELLO, self.repo / "app.py")
        with self.db.session() as session:
            drafts = [EnvironmentDraft("prod")]
            create_service(session, "bench", str(self.repo), "", drafts, utc_now())

    def deploy(self, version: str, env: dict[str, str]) -> int:
        extra = "".join(f', {k}: "{v}"' for k, v in env.items())
        spec = SPEC.format(python=sys.executable, port=self.port, env=extra, weight=self.weight)
        (self.repo / "code.yaml").write_text(spec)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", f"feat: {version}")
        with self.db.session() as session:
            create_release(session, self.context(), ACTOR, "bench", version)
            request = DeployRequest("bench", "prod", version)
            return start_deployment(session, self.context(), ACTOR, request).id

    def status(self, deployment_id: int) -> str:
        from code_engine.deploy.store import get_deployment

        with self.db.session() as session:
            return get_deployment(session, deployment_id).status

    def wait(self, deployment_id: int, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while (status := self.status(deployment_id)) not in ("succeeded", "failed", "rolled_back"):
            if time.monotonic() > deadline:
                raise SystemExit(f"deployment {deployment_id} still {status} after {timeout}s")
            time.sleep(0.1)
        return status

    def router(self) -> BuiltinRouter:
        return BuiltinRouter(str(self.data_dir / "run" / "bench" / "prod" / "router.sock"))

    def cleanup(self) -> None:
        Supervisor("bench", "prod", self.data_dir).stop_all(grace=5)
        router = self.router()
        if router.ping():
            stop_router(router)


def routed_until_zero(bench: Bench, version: str) -> tuple[float, float]:
    """When the router first gave `version` weight, and when it took the weight away."""
    router = bench.router()
    routed_at: float | None = None
    while True:
        weight = router.get_weights().get(version, 0)
        now = time.monotonic()
        if weight > 0 and routed_at is None:
            routed_at = now
        elif weight == 0 and routed_at is not None:
            return routed_at, now
        time.sleep(0.01)


def one_run(bench: Bench, load: Load, version: str) -> dict[str, float]:
    """Deploy a bad canary; time first 500 → weight 0 as the router reports it."""
    load.reset()
    deployment_id = bench.deploy(version, {"HELLO_ERROR_RATE": "0.05"})
    routed_at, zero_at = routed_until_zero(bench, version)
    outcome = bench.wait(deployment_id)
    first = load.first_error or zero_at
    return {
        "rollback_seconds": zero_at - first,
        "routed_seconds": zero_at - routed_at,
        "errors_seen_seconds": (load.last_error or first) - first,
        "rolled_back": float(outcome == "rolled_back"),
    }


def hang_run(bench: Bench, version: str) -> dict[str, float]:
    """Deploy a canary that hangs every request; time its first weight → weight 0."""
    deployment_id = bench.deploy(version, HANG)
    routed_at, zero_at = routed_until_zero(bench, version)
    outcome = bench.wait(deployment_id)
    return {
        "hang_rollback_seconds": zero_at - routed_at,
        "rolled_back": float(outcome == "rolled_back"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hang-runs", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rps", type=float, default=200.0, help="total request rate")
    parser.add_argument("--weight", type=int, default=20, help="canary weight, percent")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="code-rollback-"))
    bench = Bench(root, args.weight)
    thread, stop = start_worker_thread(bench.db, WorkerConfig(data_dir=bench.data_dir, poll=POLL))
    try:
        bench.setup()
        if bench.wait(bench.deploy("good", {})) != "succeeded":
            raise SystemExit("the first, healthy release did not succeed")
        load = Load(f"http://127.0.0.1:{bench.port}/", args.clients, args.rps)
        for client in load.threads:
            client.start()
        rate = load.rate()
        floor = MIN_REQUESTS / (rate * args.weight / 100) + POLL
        emit(figure="load_rps", value=round(rate, 1), clients=args.clients)
        times, routed = [], []
        for run in range(1, args.runs + 1):
            result = one_run(bench, load, f"bad{run}")
            times.append(result["rollback_seconds"])
            routed.append(result["routed_seconds"])
            emit(figure="rollback_seconds", run=run, **{k: round(v, 3) for k, v in result.items()})
        median = statistics.median(times)
        emit(
            figure="rollback_seconds_median",
            value=round(median, 3),
            target=TARGET_SECONDS,
            meets_target=median <= TARGET_SECONDS,
            routed_seconds_median=round(statistics.median(routed), 3),
            floor_seconds=round(floor, 3),
            routed_over_floor=round(statistics.median(routed) / floor, 2),
        )
        hangs = []
        for run in range(1, args.hang_runs + 1):
            result = hang_run(bench, f"hang{run}")
            hangs.append(result["hang_rollback_seconds"])
            emit(
                figure="hang_rollback_seconds",
                run=run,
                **{k: round(v, 3) for k, v in result.items()},
            )
        if hangs:
            target = 2 * ANALYSIS_INTERVAL
            median = statistics.median(hangs)
            emit(
                figure="hang_rollback_seconds_median",
                value=round(median, 3),
                target=target,
                meets_target=median <= target,
                analysis_interval=ANALYSIS_INTERVAL,
                intervals=round(median / ANALYSIS_INTERVAL, 3),
            )
        load.stop.set()
    finally:
        stop.set()
        thread.join(15)
        bench.cleanup()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
