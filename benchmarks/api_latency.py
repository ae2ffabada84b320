"""API latency at a fixed request rate: `GET /api/v1/deployments?limit=50` over 10k rows.

Starts `codectl server` on SQLite (or CODE_DATABASE_URL), seeds 10,000 deployments, then a
separate load process sends requests on an open-loop schedule (default 200 req/s for 20 s) and
reports p50/p95/p99 and error rate as JSON lines, beside `/healthz` as the floor. Each endpoint
is measured `--runs` times (default 3), alternating with the floor so that both see the same
machine; the figures to quote are the `"median": true` lines (the median of the runs) and the
summary, which compares the deployments page with the floor of the same runs. First, the
`"serial": true` lines give each endpoint's service time (one request at a time, no queue):
on a shared machine their ratio is steadier than the latencies under load.
Target: p95 < 20 ms on SQLite, error rate 0.

    python benchmarks/api_latency.py [--rate 200] [--duration 20] [--rows 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

TARGET_P95_MS = 20.0
SERIAL_REQUESTS = 500
CONNECTIONS = 16
EXTRA = os.environ.get("BENCH_SERVER_ARGS", "").split()
PYFLAGS = os.environ.get("BENCH_PYTHON_FLAGS", "").split()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """One HTTP/1.1 request on a keep-alive connection; returns the status code."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _load(url: str, token: str, rate: float, duration: float) -> dict[str, float]:
    """Open-loop load over keep-alive connections; latency counts from the scheduled start.

    A lean asyncio HTTP/1.1 client (not a full-featured one) so that the generator is never
    the bottleneck, and scheduled-start timing so that queueing is not hidden (no coordinated
    omission).
    """
    parsed = httpx.URL(url)
    request = (
        f"GET {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
        f"Authorization: Bearer {token}\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        while (scheduled := await queue.get()) is not None:
            try:
                ok = await _exchange(reader, writer, request) == 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
                reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
            latencies.append((time.perf_counter() - scheduled) * 1000)
            errors += 0 if ok else 1
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    total = int(rate * duration)
    begin = time.perf_counter()
    for i in range(total):
        scheduled = begin + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(scheduled)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - begin
    return {
        "requests": total,
        "achieved_rps": round(total / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "error_rate": errors / total if total else 0.0,
    }


async def _serial(url: str, token: str, count: int) -> dict[str, float]:
    """One request at a time on one connection: the service time, without queueing."""
    parsed = httpx.URL(url)
    request = (
        f"GET {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
        f"Authorization: Bearer {token}\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
    latencies = []
    for _ in range(count):
        begin = time.perf_counter()
        await _exchange(reader, writer, request)
        latencies.append((time.perf_counter() - begin) * 1000)
    writer.close()
    return {
        "requests": count,
        "serial_p50_ms": round(percentile(latencies, 0.50), 3),
        "serial_p95_ms": round(percentile(latencies, 0.95), 3),
    }


def worker(argv: list[str]) -> None:
    """The load process: `api_latency.py --worker URL TOKEN RATE DURATION` (rate 0: serial,
    DURATION requests one after the other)."""
    url, token, rate, duration = argv[0], argv[1], float(argv[2]), float(argv[3])
    if rate == 0:
        print(json.dumps(asyncio.run(_serial(url, token, int(duration)))))  # noqa: T201
        return
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    print(json.dumps(asyncio.run(_load(url, token, rate, duration))))  # noqa: T201


def _seed(database_url: str, rows: int) -> None:
    from code_engine.catalog.store import EnvironmentDraft, create_service
    from code_engine.store import make_database, upgrade
    from code_engine.store.tables import DeploymentRow

    db = make_database(database_url)
    upgrade(db.engine)
    now = datetime.now(timezone.utc)
    with db.session() as session:
        service = create_service(
            session, "bench", "", "", [EnvironmentDraft("dev"), EnvironmentDraft("prod")], now
        )
        env_id = session.execute(
            __import__("sqlalchemy").text("SELECT id FROM environments WHERE name='prod'")
        ).scalar_one()
        session.add_all(
            DeploymentRow(
                service_id=service.id,
                environment_id=env_id,
                version=f"1.0.{i}",
                status="succeeded",
                created_at=now - timedelta(minutes=rows - i),
                started_at=now - timedelta(minutes=rows - i),
                finished_at=now - timedelta(minutes=rows - i) + timedelta(seconds=30),
                state={},
            )
            for i in range(rows)
        )
    db.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ENDPOINTS = {"healthz": "/healthz", "deployments": "/api/v1/deployments?limit=50"}


def _measure(url: str, token: str, rate: float, duration: float) -> dict[str, float]:
    """One load run in its own process (so the generator never shares the server's CPU)."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", url, token, str(rate), str(duration)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def _median(results: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs."""
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="code-bench-"))
    database_url = os.environ.get("CODE_DATABASE_URL") or f"sqlite:///{data_dir / 'code.db'}"
    _seed(database_url, args.rows)
    port = _free_port()
    client_secret = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "CODE_DATA_DIR": str(data_dir),
        "CODE_DATABASE_URL": database_url,
        "CODE_BOOTSTRAP_CLIENT_ID": "bench",
        "CODE_BOOTSTRAP_CLIENT_SECRET": client_secret,
        "CODE_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen(
        [sys.executable, *PYFLAGS, "-m", "code_engine", "server", "--port", str(port), *EXTRA],
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
        token = httpx.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "bench",
                "client_secret": client_secret,
            },
        ).json()["access_token"]
        runs: dict[str, list[dict[str, float]]] = {"healthz": [], "deployments": []}
        label = {"benchmark": "api_latency", "database": database_url.split(":", 1)[0]}
        serial = {}
        for name, path in ENDPOINTS.items():  # the cost of one request, before any load
            serial[name] = _measure(f"{base}{path}", token, 0, SERIAL_REQUESTS)
            line = {**label, "endpoint": path, "rows": args.rows, "serial": True}
            print(json.dumps({**line, **serial[name]}))  # noqa: T201
        for run in range(1, args.runs + 1):
            for name, path in ENDPOINTS.items():
                result = _measure(f"{base}{path}", token, args.rate, args.duration)
                runs[name].append(result)
                line = {**label, "endpoint": path, "rows": args.rows, "run": run, **result}
                print(json.dumps(line))  # noqa: T201
        medians = {name: _median(results) for name, results in runs.items()}
        for name, path in ENDPOINTS.items():
            line = {**label, "endpoint": path, "rows": args.rows, "median": True}
            print(json.dumps({**line, "runs": args.runs, **medians[name]}))  # noqa: T201
        deployments, floor = medians["deployments"], medians["healthz"]
        summary = {
            **label,
            "summary": True,
            "added_p95_ms_over_floor": round(deployments["p95_ms"] - floor["p95_ms"], 2),
            "serial_p50_ratio_to_floor": round(
                serial["deployments"]["serial_p50_ms"] / serial["healthz"]["serial_p50_ms"], 2
            ),
            "target_p95_ms": TARGET_P95_MS,
            "meets_target": deployments["p95_ms"] < TARGET_P95_MS
            and deployments["error_rate"] == 0,
        }
        print(json.dumps(summary))  # noqa: T201
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        main()
