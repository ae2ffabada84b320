"""Policy evaluation's cost on a deploy request: the same request with and without policies.

One service on SQLite, one release; each iteration runs the whole deploy service function
(`start_deployment`: read the release's code.yaml at its commit from git, check protection,
plan the rollout, write the deployment) and rolls the deployment back, so every request is
the same first deployment. Without policies the context's gate has none; with policies it
holds CODE's deploy gate and the three example policies (change freeze, prod readiness, four
eyes) as operator-wide sets, so the two variants read the very same code.yaml, and the
difference is the policy work of a decision: gather the facts (deployment history, last
assessment, pipeline run: one query), build the input, evaluate the four sets (one shared
interpreter), record the decision (with the request's own writes). The policies allow
the request (dev is not gated), so the whole path runs to the end. (A release's own
`policies:` are read from git once per commit, then kept.)

The measurement runs `--runs` times (3 by default; a shared machine's load comes and goes):
prints one JSON line per run and variant (p50/p95 in ms, elapsed and CPU time of the process),
then one with the median over the runs of the p95 policies add, against the target of 5 ms,
with each run's figure, the same for CPU time, and the load average.

    python benchmarks/policy.py [--requests 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from code_engine.auth.roles import Binding, Role
from code_engine.catalog.store import EnvironmentDraft, create_service
from code_engine.clock import utc_now
from code_engine.deploy import policy_hook
from code_engine.deploy.gitrepo import open_repository
from code_engine.deploy.releases import create_release
from code_engine.deploy.service import Actor, DeployContext, DeployRequest, start_deployment
from code_engine.policy.gate import DEFAULT_GATE, Gate
from code_engine.policy.sources import from_directory
from code_engine.store.engine import Database, make_database
from code_engine.store.migrate import upgrade

TARGET_ADDED_P95_MS = 5.0
ROOT = Path(__file__).resolve().parents[1]
ACTOR = Actor("benchmark", frozenset({Binding(Role.admin)}))
SPEC = """\
service: {name}
repo: .
environments:
  - name: dev
    target:
      kind: local
      command: "python -m http.server {{port}}"
    timezone: Europe/Paris
"""


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,  # noqa: S607
    )
    return result.stdout.strip()


def service_repo(root: Path, name: str) -> Path:
    repo = root / name
    repo.mkdir(parents=True)
    (repo / "code.yaml").write_text(SPEC.format(name=name), encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "-m", "v1")
    return repo


def policy_gate() -> Gate:
    sets = [from_directory(ROOT / "policies" / "deploy_gate.rego", "data.code.deploy_gate.deny")]
    for example in ("change_freeze", "prod_readiness", "four_eyes"):
        path = ROOT / "examples" / "policies" / f"{example}.rego"
        sets.append(from_directory(path, f"data.code.{example}.deny"))
    return Gate(sets)


def measure(
    db: Database, contexts: dict[str, DeployContext], requests: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Alternate the variants request by request, so load on the machine hits both alike:
    each request's elapsed time, and the CPU time the process spent on it (which a loaded
    machine's waits for a CPU do not inflate)."""
    times: dict[str, list[float]] = {name: [] for name in contexts}
    cpu: dict[str, list[float]] = {name: [] for name in contexts}
    for _ in range(requests):
        for name, ctx in contexts.items():
            with db.sessions() as session:
                started, used = time.perf_counter(), time.process_time()
                start_deployment(session, ctx, ACTOR, DeployRequest("bench", "dev", "1.0.0"))
                cpu[name].append((time.process_time() - used) * 1000)
                times[name].append((time.perf_counter() - started) * 1000)
                session.rollback()
    return times, cpu


def timed_checks(spent: list[float]) -> None:
    """Time the policy check itself inside each request (the part policies add)."""
    check = policy_hook.check

    def timed(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            check(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - started) * 1000)

    policy_hook.check = timed  # type: ignore[assignment]


def figures(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return {"p50_ms": round(statistics.median(ordered), 3), "p95_ms": round(p95, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = make_database(f"sqlite:///{root / 'code.db'}")
        upgrade(db.engine)
        data = root / "data"
        plain = DeployContext(utc_now(), data, lambda r: open_repository(r, data), DEFAULT_GATE)
        gated = replace(plain, policy=policy_gate())
        repo = service_repo(root, "bench")
        with db.session() as session:
            create_service(session, "bench", str(repo), "", [EnvironmentDraft("dev")], utc_now())
            create_release(session, plain, ACTOR, "bench", "1.0.0")
        contexts = {"plain": plain, "gated": gated}
        measure(db, contexts, 10)  # warm both: compile the policies, fill the caches
        spent: list[float] = []
        timed_checks(spent)
        added: list[float] = []
        added_cpu: list[float] = []
        checks: list[dict[str, float]] = []
        for run in range(1, args.runs + 1):
            spent.clear()
            times, cpu = measure(db, contexts, args.requests)
            results = {name: figures(values) for name, values in times.items()}
            used = {name: figures(values) for name, values in cpu.items()}
            for name, figure in results.items():
                line = {"benchmark": "policy", "run": run, "variant": name, **figure}
                cpu_figures = {
                    "cpu_p50_ms": used[name]["p50_ms"],
                    "cpu_p95_ms": used[name]["p95_ms"],
                }
                print(json.dumps({**line, **cpu_figures, "requests": args.requests}))  # noqa: T201
            added.append(round(results["gated"]["p95_ms"] - results["plain"]["p95_ms"], 3))
            added_cpu.append(round(used["gated"]["p95_ms"] - used["plain"]["p95_ms"], 3))
            checks.append(figures(spent[1::2]))  # the checks of the gated requests
        median = statistics.median(added)
        summary = {
            "benchmark": "policy",
            "figure": "added_p95_ms",
            "value": round(median, 3),
            "runs": added,
            "added_cpu_p95_ms": round(statistics.median(added_cpu), 3),
            "load_average": round(os.getloadavg()[0], 2),
            "policy_check_p95_ms": statistics.median(c["p95_ms"] for c in checks),
            "policy_check_p50_ms": statistics.median(c["p50_ms"] for c in checks),
            "target_ms": TARGET_ADDED_P95_MS,
            "policies": 4,
            "met": median < TARGET_ADDED_P95_MS,
        }
        print(json.dumps(summary))  # noqa: T201
        db.dispose()


if __name__ == "__main__":
    main()
