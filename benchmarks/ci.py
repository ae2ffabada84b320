"""Benchmark `codectl ci` on CODE's own repository, against its two floors, in one run.

- warm: `codectl ci` with nothing changed (every step replayed from the cache) against
  `python -c pass`, the cost of starting any Python program. Target: under 0.5 s.
- cold: `codectl ci` with an empty cache against the same tools run directly, one after
  another, with the same arguments. Target: at most 1.05 times; parallel steps should beat it.

The repository is cloned from HEAD into a temporary directory so the work tree's own cache is
untouched. The default stages are lint and security (the test stage runs the whole suite:
add `--stage test` for it). Prints one JSON line per figure.

    python benchmarks/ci.py [--stage lint --stage security] [--repeat 5] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODECTL = str(Path(sys.executable).with_name("codectl"))


def timed(argv: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if check and done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace")[-4000:])
        raise SystemExit(f"{' '.join(argv)} failed with exit code {done.returncode}")
    return elapsed


def direct_commands(repo: Path, stages: list[str]) -> list[tuple[list[str], dict[str, str]]]:
    """The selected steps' commands and their own environment (e.g. `COVERAGE_FILE`) as
    `codectl ci` would run them, tools resolved alike."""
    from code_engine.pipeline.run import plan
    from code_engine.pipeline.tools import resolve
    from code_engine.spec import load_spec

    spec = load_spec(repo / "code.yaml")
    _, chosen = plan(repo, spec.service, spec.pipeline, stages)
    commands = []
    for step in chosen:
        tool = resolve(step.run[0], repo)
        if tool is not None and step.engine is None:
            commands.append(([tool, *step.run[1:]], dict(step.env)))
    return commands


def figure(name: str, value: float, baseline: float, target: str) -> None:
    print(json.dumps({"figure": name, "seconds": round(value, 3),
                      "baseline_seconds": round(baseline, 3),
                      "ratio": round(value / baseline, 3) if baseline else None,
                      "target": target}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", action="append", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    stages = args.stage or ["lint", "security"]
    selection = [arg for stage in stages for arg in ("--stage", stage)]
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    with tempfile.TemporaryDirectory(prefix="code-ci-bench-") as tmp:
        repo = Path(tmp) / "code"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        env = {**os.environ, "CODE_CI_CACHE": str(Path(tmp) / "cache"), "NO_COLOR": "1",
               "VENV": sys.prefix}  # fmt: skip  # the clone's scripts use this virtualenv
        path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        direct_env = {**env, "PATH": path}

        # the same tools, directly, one after another (their reports written alike)
        (repo / "build" / "ci").mkdir(parents=True, exist_ok=True)
        direct = sum(
            timed(argv, repo, {**direct_env, **own}, check=False)
            for argv, own in direct_commands(repo, stages)
        )
        cold = timed([CODECTL, "ci", *selection, *jobs], repo, env, check=False)
        figure("cold run against the tools run one after another", cold, direct, "<= 1.05x")

        timed([CODECTL, "ci", *selection], repo, env, check=False)  # settle the cache
        warm = statistics.median(
            timed([CODECTL, "ci", *selection], repo, env, check=False) for _ in range(args.repeat)
        )
        floor = statistics.median(
            timed([sys.executable, "-c", "pass"], repo, env) for _ in range(args.repeat)
        )
        figure("warm run with nothing changed against python -c pass", warm, floor, "< 0.5 s")


if __name__ == "__main__":
    main()
