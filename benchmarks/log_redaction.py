"""Cost of masking secret values when instance logs are read (`codectl logs`).

Writes an instance log of `--lines` lines of typical width (a tenth print a secret), records
the fingerprints of `--secrets` values of different lengths, and reads the log with
`tail_logs` with and without them, in the same run: the baseline is the same read with no
secret to mask. Prints one JSON line per figure: lines per second of each, and the ratio.
Target: at least 2,000 lines/s with 4 secrets (`codectl logs -n 50` on ten instances then
spends under 250 ms masking). Each line costs one keyed hash per window of each secret length
(no value is kept to search for), so the cost grows with line width and distinct lengths.

    python benchmarks/log_redaction.py [--lines 20000] [--secrets 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from code_engine.deploy.local.logtail import tail_logs
from code_engine.secrets import fingerprints

TARGET_LINES_PER_SECOND = 2_000


def _write_log(directory: Path, lines: int, values: list[str]) -> None:
    with (directory / "v1-0.log").open("w") as log:
        for number in range(lines):
            if number % 10 == 0:
                log.write(f"environment at start: DB_PASSWORD={values[number % len(values)]}\n")
            else:
                log.write(f"INFO request {number} GET /api/v1/items?page={number} 200 1.2ms\n")


def _read(directory: Path, lines: int) -> float:
    started = time.perf_counter()
    count = sum(1 for _ in tail_logs(directory, lines))
    assert count == lines, count
    return lines / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--secrets", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    values = [secrets.token_urlsafe(12 + 6 * index) for index in range(args.secrets)]
    root = Path(tempfile.mkdtemp(prefix="code-bench-redaction-"))
    try:
        plain, masked = root / "plain", root / "masked"
        for directory in (plain, masked):
            directory.mkdir()
            _write_log(directory, args.lines, values)
        fingerprints.record(masked, values)
        baseline = statistics.median(_read(plain, args.lines) for _ in range(args.runs))
        measured = statistics.median(_read(masked, args.lines) for _ in range(args.runs))
    finally:
        shutil.rmtree(root)
    figures = [
        {"figure": "log_read_lines_per_second", "secrets": 0, "value": round(baseline)},
        {
            "figure": "log_read_lines_per_second",
            "secrets": args.secrets,
            "value": round(measured),
            "target": TARGET_LINES_PER_SECOND,
            "met": measured >= TARGET_LINES_PER_SECOND,
        },
        {"figure": "masking_slowdown", "value": round(baseline / measured, 2)},
    ]
    for figure in figures:
        print(json.dumps(figure))  # noqa: T201


if __name__ == "__main__":
    main()
