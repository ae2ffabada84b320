"""`/healthz` latency while 50 clients keep sending wrong secrets to `/oauth/token`.

Starts `codectl server` on SQLite, measures `/healthz` alone (the baseline), while 50
clients send token requests that need no secret check (an unsupported grant: the floor of
HTTP handling on this machine), and while 50 clients send wrong client secrets without pause
(each answered 401, or 429 once throttled); the load comes from another process. Prints
JSON lines: the p50/p95 of `/healthz` in each phase, the answers of the token endpoint and
the server's peak memory. Target: p95 under load < 100 ms, peak
memory < 400 MB.

    python benchmarks/sign_in_load.py [--duration 10] [--clients 50]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

TARGET_P95_MS = 100.0
TARGET_PEAK_MB = 400


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthz(base: str, duration: float) -> list[float]:
    latencies = []
    deadline = time.monotonic() + duration
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.get(f"{base}/healthz")
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
    return latencies


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _attack(base: str, clients: int, grant_type: str, stop: Any, results: Any) -> None:
    """In its own process: `clients` threads posting token requests without pause."""
    halt = threading.Event()
    answers: Counter[int] = Counter()
    lock = threading.Lock()

    def attack(index: int) -> None:
        with httpx.Client(timeout=60) as client:
            while not halt.is_set():
                form = {
                    "grant_type": grant_type,
                    "client_id": "bench" if index % 2 else f"nobody{index}",
                    "client_secret": secrets.token_urlsafe(16),
                }
                status = client.post(f"{base}/oauth/token", data=form).status_code
                with lock:
                    answers[status] += 1

    threads = [threading.Thread(target=attack, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    stop.wait()
    halt.set()
    for thread in threads:
        thread.join(60)
    results.put(dict(answers))


def _flood(
    base: str, clients: int, duration: float, grant_type: str
) -> tuple[dict[int, int], list[float]]:
    """Load from another process (so the probe never waits for its GIL); /healthz meanwhile."""
    stop, results = multiprocessing.Event(), multiprocessing.Queue()
    attacker = multiprocessing.Process(
        target=_attack, args=(base, clients, grant_type, stop, results)
    )
    attacker.start()
    time.sleep(1)  # let the clients connect
    latencies = _healthz(base, duration)
    stop.set()
    answers: dict[int, int] = results.get(timeout=120)
    attacker.join(60)
    return answers, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="code-bench-"))
    port = _free_port()
    env = {
        **os.environ,
        "CODE_DATA_DIR": str(data_dir),
        "CODE_DATABASE_URL": f"sqlite:///{data_dir / 'code.db'}",
        "CODE_BOOTSTRAP_CLIENT_ID": "bench",
        "CODE_BOOTSTRAP_CLIENT_SECRET": secrets.token_urlsafe(24),
        "CODE_LOG_LEVEL": "error",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "code_engine", "server", "--no-worker", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        baseline = _healthz(base, args.duration / 2)
        # the floor: as many clients sending token requests that need no secret check
        _, floor = _flood(base, args.clients, args.duration, "unsupported")
        answers, loaded = _flood(base, args.clients, args.duration, "client_credentials")
        peak = _peak_mb(server.pid)
        phases = (
            ("baseline", baseline),
            ("under_cheap_token_load", floor),
            ("under_sign_in_load", loaded),
        )
        for phase, values in phases:
            line = {
                "benchmark": "sign_in_load",
                "phase": phase,
                "endpoint": "/healthz",
                "requests": len(values),
                "p50_ms": round(percentile(values, 0.5), 2),
                "p95_ms": round(percentile(values, 0.95), 2),
            }
            print(json.dumps(line))  # noqa: T201
        summary = {
            "benchmark": "sign_in_load",
            "summary": True,
            "clients": args.clients,
            "token_answers": {str(k): v for k, v in sorted(answers.items())},
            "peak_rss_mb": round(peak, 1),
            "added_p95_ms_over_baseline": round(
                percentile(loaded, 0.95) - percentile(baseline, 0.95), 2
            ),
            "added_p95_ms_over_cheap_load": round(
                percentile(loaded, 0.95) - percentile(floor, 0.95), 2
            ),
            "target_p95_ms": TARGET_P95_MS,
            "meets_target": percentile(loaded, 0.95) < TARGET_P95_MS and peak < TARGET_PEAK_MB,
        }
        print(json.dumps(summary))  # noqa: T201
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
