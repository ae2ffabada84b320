"""Router overhead: the same load sent straight to one hello instance, through the builtin
router and through HAProxy. Prints one JSON line per figure.

Two loads per target, over keep-alive connections from a separate process (wrk when
installed, else a multi-process Python generator):
- paced: about `--rate` requests/s, for latency (p50/p95/p99) without queueing;
- max: as fast as the target answers, for throughput.
Two direct baselines: `direct`, the plain requests, and `direct_forwarded`, the same
requests with the `X-Forwarded-For/-Proto/-Host` headers every proxy adds, so the instance
does the same work as behind a router (uvicorn parses them: a few µs per request).
Then, per router: added p95 at the paced rate, throughput as a share of each baseline,
and the CPU time per request at the maximum rate of the router process and of the
instance behind it (beside the instance's own when addressed directly).
Targets: added p95 <= 1 ms, throughput >= 80 % of direct (both baselines are shown).

    python benchmarks/router.py [--duration 20] [--rounds 3] [--rate 2000] [--no-haproxy]

Each figure is the median of `--rounds` runs that interleave the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from code_engine.deploy.local import LaunchSpec, Supervisor
from code_engine.deploy.local.ports import free_port
from code_engine.deploy.router import (
    HAProxyRouter,
    HAProxySettings,
    RouterLaunch,
    ensure_router,
    stop_router,
)

HELLO = Path(__file__).resolve().parents[1] / "examples" / "hello"
COMMAND = (
    "{python} -m uvicorn app:app --host {host} --port {port} --no-access-log --log-level warning"
)
WRK_SCRIPT = """
local pace = tonumber(os.getenv("PACE_MS") or "0")
function delay() return pace end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "errors": %d, "p50_ms": %f, "p95_ms": %f, "p99_ms": %f}\\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


async def _connection(
    host: str,
    port: int,
    path: str,
    until: float,
    pace_s: float,
    latencies: list[float],
    headers: tuple[str, ...] = (),
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    extra = "".join(f"{h}\r\n" for h in headers)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode()
    errors = 0
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        errors += not head.startswith(b"HTTP/1.1 200")
        if pace_s:
            await asyncio.sleep(max(0.0, pace_s - (time.perf_counter() - started)))
    writer.close()
    return errors


def _load_process(
    url: str, seconds: float, connections: int, pace_ms: float, headers: tuple[str, ...]
) -> tuple[list[float], int]:
    parts = urlsplit(url)
    latencies: list[float] = []

    async def run() -> int:
        until = time.perf_counter() + seconds
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        jobs = [
            _connection(host, port, parts.path or "/", until, pace_ms / 1000, latencies, headers)
            for _ in range(connections)
        ]
        return sum(await asyncio.gather(*jobs))

    errors = asyncio.run(run())
    return latencies, errors


def python_load(
    url: str,
    seconds: float,
    connections: int,
    pace_ms: float,
    processes: int,
    headers: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A keep-alive load from `processes` processes sharing `connections` connections."""
    per = max(1, connections // processes)
    with ProcessPoolExecutor(processes) as pool:
        jobs = [
            pool.submit(_load_process, url, seconds, per, pace_ms, headers)
            for _ in range(processes)
        ]
        parts = [job.result() for job in jobs]
    latencies = sorted(x for lat, _ in parts for x in lat)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "seconds": seconds,
        "errors": sum(e for _, e in parts),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


def wrk_load(
    url: str, seconds: float, connections: int, pace_ms: float, headers: tuple[str, ...] = ()
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "-s",
        script.name,
        *(arg for header in headers for arg in ("-H", header)),
        url,
    ]
    env = {"PACE_MS": str(pace_ms), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    Path(script.name).unlink()
    return json.loads(out.strip().splitlines()[-1])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far (Linux `/proc`; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


Target = tuple[str, tuple[str, ...]]  # URL, extra request headers


def forwarded_headers(url: str) -> tuple[str, ...]:
    """The headers a proxy adds to a request for `url` (as the builtin router writes them)."""
    return (
        "X-Forwarded-For: 127.0.0.1",
        "X-Forwarded-Proto: http",
        f"X-Forwarded-Host: {urlsplit(url).netloc}",
    )


def measure(
    target: Target,
    args: argparse.Namespace,
    paced: bool,
    pids: dict[str, list[int]] | None = None,
) -> dict[str, Any]:
    """One load on (url, extra headers); with `pids` (role → processes) also their CPU
    time per request."""
    url, headers = target
    before = {role: cpu_seconds(p) for role, p in (pids or {}).items()}
    connections = args.paced_connections if paced else args.connections
    pace_ms = connections * 1000 / args.rate if paced else 0.0
    if shutil.which("wrk") and not args.python_load:
        result = wrk_load(url, args.duration, connections, pace_ms, headers)
        result["tool"] = "wrk"
    else:
        result = python_load(
            url, args.duration, connections, pace_ms, processes=args.processes, headers=headers
        )
        result["tool"] = "python"
    result["rps"] = result["requests"] / result["seconds"]
    for role, p in (pids or {}).items():
        used = cpu_seconds(p) - before[role]
        result[f"{role}_cpu_us_per_request"] = used * 1e6 / max(result["requests"], 1)
    return result


def start_targets(
    work: Path, args: argparse.Namespace
) -> tuple[dict[str, Target], dict[str, dict[str, list[int]]], list[Any]]:
    """URLs (and headers) of the targets, their processes (for CPU accounting), and the
    cleanups."""
    supervisor = Supervisor("hello", "bench", work)
    spec = LaunchSpec("bench", COMMAND, cwd=HELLO, env={"HELLO_VERSION": "bench"})
    instance = supervisor.start(spec)[0]
    backends = {"bench": [instance.address]}
    direct = f"http://{instance.address}/"
    targets: dict[str, Target] = {
        "direct": (direct, ()),
        "direct_forwarded": (direct, forwarded_headers(direct)),
    }
    pids = {
        "direct": {"instance": [instance.pid]},
        "direct_forwarded": {"instance": [instance.pid]},
    }
    cleanups: list[Any] = [lambda: supervisor.stop_all(grace=5)]
    builtin = ensure_router(RouterLaunch.for_environment(work, "hello", "bench", free_port()))
    builtin.set_backends(backends)
    builtin.set_weights({"bench": 100})
    health = builtin.health()
    targets["builtin"] = (f"http://127.0.0.1:{health['port']}/", ())
    pids["builtin"] = {"instance": [instance.pid], "router": [int(health["pid"])]}
    cleanups.append(lambda: stop_router(builtin))
    if shutil.which("haproxy") and not args.no_haproxy:
        haproxy = HAProxyRouter(HAProxySettings(workdir=work / "haproxy", port=free_port()))
        haproxy.set_backends(backends)
        haproxy.set_weights({"bench": 100})
        targets["haproxy"] = (f"http://127.0.0.1:{haproxy.settings.port}/", ())
        pids["haproxy"] = {"instance": [instance.pid], "router": haproxy.pids()}
        cleanups.append(haproxy.stop)
    return targets, pids, cleanups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per target")
    parser.add_argument("--rate", type=float, default=2000.0, help="paced requests/s")
    parser.add_argument("--connections", type=int, default=32, help="max-rate connections")
    parser.add_argument("--paced-connections", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2, help="python load generator only")
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument("--no-haproxy", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="code-bench-") as tmp:
        targets, pids, cleanups = start_targets(Path(tmp), args)
        try:
            for target in targets.values():  # warm up connections and pools
                measure(target, argparse.Namespace(**{**vars(args), "duration": 1.0}), paced=False)
            runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
            # Rounds interleave the targets so a noisy neighbour hurts them alike.
            for _ in range(args.rounds):
                for name, target in targets.items():
                    for load in ("paced", "max"):
                        paced = load == "paced"
                        result = measure(target, args, paced, None if paced else pids[name])
                        runs.setdefault(name, {}).setdefault(load, []).append(result)
            results = {t: {load: _median(r) for load, r in by.items()} for t, by in runs.items()}
            for target, by_load in results.items():
                for load, result in by_load.items():
                    emit({"figure": f"{load}_load", "target": target, **_rounded(result)})
            for router in (t for t in results if not t.startswith("direct")):
                emit(
                    _overhead(
                        router, results["direct"], results["direct_forwarded"], results[router]
                    )
                )
        finally:
            for cleanup in reversed(cleanups):
                cleanup()


def _overhead(
    router: str, direct: dict[str, Any], forwarded: dict[str, Any], via: dict[str, Any]
) -> dict[str, Any]:
    added_p95 = via["paced"]["p95_ms"] - direct["paced"]["p95_ms"]
    ratio = via["max"]["rps"] / direct["max"]["rps"]
    return {
        "figure": "router_overhead",
        "router": router,
        "added_p50_ms": round(via["paced"]["p50_ms"] - direct["paced"]["p50_ms"], 3),
        "added_p95_ms": round(added_p95, 3),
        "throughput_ratio": round(ratio, 3),
        # against the same requests with the forwarded headers: the router's own share
        "throughput_ratio_same_request": round(via["max"]["rps"] / forwarded["max"]["rps"], 3),
        # at the maximum rate: what the router itself costs, and what the instance
        # costs more per request behind it (it parses the X-Forwarded-* headers)
        "router_cpu_us_per_request": round(via["max"].get("router_cpu_us_per_request", 0.0), 1),
        "instance_cpu_us_per_request": round(via["max"].get("instance_cpu_us_per_request", 0), 1),
        "direct_instance_cpu_us_per_request": round(
            direct["max"].get("instance_cpu_us_per_request", 0.0), 1
        ),
        "forwarded_instance_cpu_us_per_request": round(
            forwarded["max"].get("instance_cpu_us_per_request", 0.0), 1
        ),
        "target_added_p95_ms": 1.0,
        "target_throughput_ratio": 0.8,
        "ok": added_p95 <= 1.0 and ratio >= 0.8,
    }


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-figure median over the rounds."""
    keys = ["p50_ms", "p95_ms", "p99_ms", "rps", "requests", "errors"]
    keys += [k for k in runs[0] if k.endswith("_cpu_us_per_request")]
    merged: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    return {**merged, "rounds": len(runs), "tool": runs[0]["tool"], "seconds": runs[0]["seconds"]}


def _rounded(result: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


if __name__ == "__main__":
    main()
