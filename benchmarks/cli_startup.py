"""Benchmark `codectl` start-up: `--help` and `validate` beside `python -c pass`.

Each command runs in a fresh interpreter (the virtualenv's own), `--runs` times; the
figure is the median wall time and the largest peak RSS of the child. The floor,
`python -c pass`, is measured in the same run. Prints one JSON line per figure.

    python benchmarks/cli_startup.py [--runs 10]

Targets: `codectl --help` and `codectl validate` < 0.3 s and < 60 MB RSS.
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

SPEC = """\
service: hello
repo: .
environments:
  - name: dev
    target:
      kind: local
      command: "{python} -m http.server {port}"
"""
TIME_TARGET_S = 0.3
RSS_TARGET_MB = 60.0


def measure(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of `argv`."""
    start = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 - the interpreter of this virtualenv, fixed arguments
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def figure(name: str, argv: list[str], cwd: Path, runs: int) -> dict[str, object]:
    measure(argv, cwd)  # warm the file cache and the bytecode
    samples = [measure(argv, cwd) for _ in range(runs)]
    return {
        "benchmark": "cli_startup",
        "command": name,
        "runs": runs,
        "median_s": round(statistics.median(s for s, _ in samples), 4),
        "min_s": round(min(s for s, _ in samples), 4),
        "peak_rss_mb": round(max(m for _, m in samples), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    python = sys.executable
    codectl = [str(Path(python).with_name("codectl"))]  # the installed entry point
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "code.yaml").write_text(SPEC, encoding="utf-8")
        floor = figure("python -c pass", [python, "-c", "pass"], cwd, args.runs)
        print(json.dumps(floor))  # noqa: T201
        for name, extra in (("codectl --help", ["--help"]), ("codectl validate", ["validate"])):
            result = figure(name, [*codectl, *extra], cwd, args.runs)
            median = float(str(result["median_s"]))
            result["over_floor_s"] = round(median - float(str(floor["median_s"])), 4)
            result["meets_target"] = (
                median < TIME_TARGET_S and float(str(result["peak_rss_mb"])) < RSS_TARGET_MB
            )
            print(json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
