"""Benchmark the DORA four keys from the store against a hand-written SQL aggregate.

Data: 200 services with one year of production history: 1,000,000 deployments (85 %
succeeded, 10 % failed, 5 % rolled back), 5,000,000 commits, each delivered by the
deployment after it (and again after a failure), 50,000 incidents (40 % naming a
deployment). Figures, over the last 90 days: the four keys of one service (with the
weekly trend) and of all services, through `dora.report.service_reports`, beside the
floor: one SQL statement computing the same headline figures (`floor_query`).

    python benchmarks/dora.py [--quick] [--commit-scale 0.2] [--postgres URL] [--keep DIR]

Targets: one service < 100 ms, all services < 2 s, within 2x of the floor. One JSON line
per figure. PostgreSQL runs when --postgres or CODE_TEST_POSTGRES_URL is given.
"""

# The SQL here is built from constants and the dialect's name, never from input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from code_engine.dora.deliveries import pack_seconds
from code_engine.dora.report import service_reports
from code_engine.store.engine import Database, make_database
from code_engine.store.migrate import upgrade

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
YEAR = 365 * 86_400
WINDOW = timedelta(days=90)
STATUSES = ["succeeded"] * 17 + ["failed"] * 2 + ["rolled_back"]


def stamp(seconds: float, postgres: bool) -> str:
    """A UTC time as stored: SQLite's text format, or a PostgreSQL timestamptz literal."""
    value = NOW + timedelta(seconds=round(seconds, 6))
    text_value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return text_value + "+00" if postgres else text_value


def posix(seconds: float) -> float:
    """The same instant as `stamp`, as POSIX seconds (how change starts are stored)."""
    return (NOW + timedelta(seconds=round(seconds, 6))).timestamp()


EPOCH = {
    "sqlite": "((CAST(strftime('%s', substr({c}, 1, 19)) AS INTEGER) * 1000000"
    " + CAST(substr({c}, 21, 6) AS INTEGER)) / 1000000.0)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM {c}) AS FLOAT8)",
}


def _percentile(dialect: str, table: str, share: tuple[int, int]) -> str:
    """Type-7 percentile of `v` per service: percentile_cont, or ranks on SQLite."""
    a, b = share
    if dialect == "postgresql":
        return (
            f"SELECT service_id, percentile_cont({a / b}) WITHIN GROUP (ORDER BY v) AS p"
            f" FROM {table} GROUP BY service_id"
        )
    at = f"(({a} * (n - 1)) / {b})"
    low = f"MAX(CASE WHEN k = {at} THEN v END)"
    high = f"COALESCE(MAX(CASE WHEN k = {at} + 1 THEN v END), {low})"
    fraction = f"(({a} * (MAX(n) - 1)) % {b}) * 1.0 / {b}"
    return (
        f"SELECT service_id, {low} + {fraction} * ({high} - {low}) AS p FROM ("
        "SELECT service_id, v, ROW_NUMBER() OVER (PARTITION BY service_id ORDER BY v) - 1 AS k,"
        f" COUNT(*) OVER (PARTITION BY service_id) AS n FROM {table}) GROUP BY service_id"
    )


def floor_query(dialect: str, one_service: bool) -> str:
    """The headline four keys of every prod service in one statement (:lo, :hi epochs)."""
    e = EPOCH[dialect].format
    only = "AND s.name = :service" if one_service else ""
    return f"""
WITH svc AS (SELECT e.id AS env_id, s.id AS service_id, s.name AS service FROM environments e
    JOIN services s ON s.id = e.service_id WHERE e.name = 'prod' {only}),
dep AS (SELECT d.id, d.service_id, d.status, {e(c="d.finished_at")} AS f FROM svc
    JOIN deployments d ON d.service_id = svc.service_id AND d.environment_id = svc.env_id
    WHERE d.status IN ('succeeded', 'failed', 'rolled_back') AND d.finished_at IS NOT NULL),
seq AS (SELECT dep.*, LAG(status) OVER w AS prev_status,
    COALESCE(MAX(CASE WHEN status = 'succeeded' THEN f END) OVER (PARTITION BY service_id
      ORDER BY f, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), -1e18) AS last_success
    FROM dep WINDOW w AS (PARTITION BY service_id ORDER BY f, id)),
win AS (SELECT * FROM seq WHERE f >= :lo AND f < :hi),
inc AS (SELECT i.service_id, i.deployment_id, {e(c="i.opened_at")} AS o, {e(c="i.resolved_at")} AS r
    FROM svc JOIN incidents i ON i.service_id = svc.service_id AND i.environment_id = svc.env_id),
stream AS (SELECT service_id, f AS t, 0 AS kind, f AS dep_f, NULL AS r FROM seq
    UNION ALL SELECT service_id, o, 1, NULL, r FROM inc WHERE deployment_id IS NULL),
carried AS (SELECT service_id, t, kind, r, MAX(dep_f) OVER (PARTITION BY service_id
    ORDER BY t, kind ROWS UNBOUNDED PRECEDING) AS last_f FROM stream),
by_time AS (SELECT DISTINCT service_id, last_f FROM carried
    WHERE kind = 1 AND last_f IS NOT NULL AND t < last_f + :link),
named AS (SELECT DISTINCT deployment_id FROM inc WHERE deployment_id IS NOT NULL),
cfr AS (SELECT w.service_id, COUNT(*) AS total,
    SUM(CASE WHEN w.status = 'succeeded' THEN 1 ELSE 0 END) AS ok,
    SUM(CASE WHEN w.status <> 'succeeded' OR (w.status = 'succeeded' AND (b.last_f IS NOT NULL
      OR n.deployment_id IS NOT NULL)) THEN 1 ELSE 0 END) AS bad
    FROM win w LEFT JOIN by_time b ON b.service_id = w.service_id AND b.last_f = w.f
    LEFT JOIN named n ON n.deployment_id = w.id GROUP BY w.service_id),
nxt AS (SELECT service_id, status, f, MIN(CASE WHEN status = 'succeeded' THEN f END)
    OVER (PARTITION BY service_id ORDER BY f, id ROWS BETWEEN 1 FOLLOWING
      AND UNBOUNDED FOLLOWING) AS next_success FROM seq),
linked AS (SELECT c.service_id, d.id AS dep_id, c.t AS o, c.r FROM carried c
      JOIN seq d ON d.service_id = c.service_id AND d.f = c.last_f AND d.status = 'succeeded'
    WHERE c.kind = 1 AND c.last_f IS NOT NULL AND c.t < c.last_f + :link
    UNION ALL SELECT d.service_id, d.id, i.o, i.r FROM inc i
      JOIN seq d ON d.id = i.deployment_id AND d.status = 'succeeded'),
fixes AS (SELECT service_id, MAX(r) AS done, MAX(r) - MIN(o) AS v FROM linked
    GROUP BY service_id, dep_id HAVING COUNT(r) = COUNT(*)),
restores AS (SELECT service_id, next_success - f AS v FROM nxt
    WHERE status <> 'succeeded' AND next_success >= :lo AND next_success < :hi
    UNION ALL SELECT service_id, v FROM fixes WHERE done >= :lo AND done < :hi),
firsts AS (SELECT d.service_id, dc.sha, MIN(d.f) AS first_f,
      MIN(dc.change_started_epoch) AS started FROM dep d
    JOIN deployment_changes dc ON dc.deployment_id = d.id WHERE d.status = 'succeeded'
    GROUP BY d.service_id, dc.sha),
leads AS (SELECT x.service_id, CASE WHEN x.first_f > x.s THEN x.first_f - x.s ELSE 0 END AS v
    FROM (SELECT f.service_id, f.first_f, f.started AS s FROM firsts f
      WHERE f.first_f >= :lo AND f.first_f < :hi AND f.started IS NOT NULL) x),
lead_median AS ({_percentile(dialect, "leads", (1, 2))}),
lead_p90 AS ({_percentile(dialect, "leads", (9, 10))}),
ttr AS ({_percentile(dialect, "restores", (1, 2))})
SELECT svc.service, COALESCE(cfr.ok, 0) * 7.0 * 86400 / (:hi - :lo) AS per_week,
  lm.p / 3600.0 AS lead_median, lp.p / 3600.0 AS lead_p90,
  CASE WHEN cfr.total > 0 THEN cfr.bad * 100.0 / cfr.total END AS cfr, t.p / 3600.0 AS ttr_median
FROM svc LEFT JOIN cfr ON cfr.service_id = svc.service_id
  LEFT JOIN lead_median lm ON lm.service_id = svc.service_id
  LEFT JOIN lead_p90 lp ON lp.service_id = svc.service_id
  LEFT JOIN ttr t ON t.service_id = svc.service_id
ORDER BY svc.service
"""


def service_rows(
    service: int, env_id: int, deployments: int, commits_per: float, incidents: int,
    ids: dict[str, int], postgres: bool, rng: random.Random,
) -> dict[str, list[tuple[Any, ...]]]:  # fmt: skip
    """One service's rows (deployments, deployment_changes, changes, incidents)."""
    rows: dict[str, list[tuple[Any, ...]]] = {"d": [], "dc": [], "c": [], "i": []}
    finishes = sorted(rng.uniform(-YEAR, -60) for _ in range(deployments))
    pending: list[tuple[str, float]] = []  # sha, change start
    previous = -YEAR - 3600.0
    own: list[int] = []
    for finished in finishes:
        ids["d"] += 1
        dep_id = ids["d"]
        for _ in range(int(commits_per) + (rng.random() < commits_per % 1)):
            ids["c"] += 1
            authored = rng.uniform(previous, finished)
            first = authored - rng.uniform(0, 86_400) if rng.random() < 0.2 else None
            sha = f"{ids['c']:040x}"
            rows["c"].append((ids["c"], service, sha, "feat: change", "feat",
                              stamp(authored, postgres), stamp(authored + 60, postgres),
                              None if first is None else stamp(first, postgres)))  # fmt: skip
            change_start = authored if first is None else min(first, authored)
            pending.append((sha, posix(change_start)))
        status = rng.choice(STATUSES)
        external = f"ext-{dep_id}" if dep_id % 2 else None
        started, done = stamp(finished - 300, postgres), stamp(finished, postgres)
        # what CODE stores on a successful deployment: the commits it delivered first
        leads = None
        if status == "succeeded":
            leads = pack_seconds(sorted(max(posix(finished) - s, 0.0) for _, s in pending))
        rows["d"].append((dep_id, external, service, env_id, "1.0", "canary", status, "ci", "bench",
                          "bench", "", "{}", started, started, done, leads, 0))  # fmt: skip
        rows["dc"] += [(dep_id, sha, started) for sha, started in pending]
        if status == "succeeded":
            pending = []
        own.append(dep_id)
        previous = finished
    for _ in range(incidents):
        ids["i"] += 1
        opened = rng.uniform(-YEAR, -60)
        resolved = opened + rng.uniform(600, 5 * 3600) if rng.random() < 0.97 else None
        named = rng.choice(own) if rng.random() < 0.4 else None
        rows["i"].append((ids["i"], None, service, env_id, named, "errors", "critical", "bench",
                          stamp(opened, postgres),
                          None if resolved is None else stamp(resolved, postgres)))  # fmt: skip
    return rows


COLUMNS = {
    "d": ("deployments", "id, external_id, service_id, environment_id, version, strategy, "
          "status, trigger, source, created_by, message, state, created_at, started_at, "
          "finished_at, lead_times, lead_unknown"),
    "dc": ("deployment_changes", "deployment_id, sha, change_started_epoch"),
    "c": ("changes", "id, service_id, sha, message, conventional_type, authored_at, "
          "committed_at, first_commit_at"),
    "i": ("incidents", "id, external_id, service_id, environment_id, deployment_id, title, "
          "severity, source, opened_at, resolved_at"),
}  # fmt: skip


def load(db: Database, args: argparse.Namespace, postgres: bool) -> dict[str, int]:
    """Create the services and write every row with the driver's bulk path."""
    rng = random.Random(20260101)
    ids = {"d": 0, "c": 0, "i": 0}
    per_service = args.deployments // args.services
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for service in range(1, args.services + 1):
            cursor.execute(
                "INSERT INTO services (id, name, repo, description, created_at) "
                f"VALUES ({service}, 'svc-{service:03d}', '', '', '{stamp(-YEAR * 2, postgres)}')"
            )
            cursor.execute(
                "INSERT INTO environments (id, service_id, name, position, target_kind, "
                f"requires_previous, created_at) VALUES ({service}, {service}, 'prod', 0, "
                f"'local', {'false' if postgres else 0}, '{stamp(-YEAR * 2, postgres)}')"
            )
            rows = service_rows(
                service, service, per_service, args.commits / args.deployments,
                args.incidents // args.services, ids, postgres, rng,
            )  # fmt: skip
            for key, (table, columns) in COLUMNS.items():
                _insert(cursor, table, columns, rows[key], postgres)
            if service % 20 == 0:
                raw.commit()
                print(f"loaded {service}/{args.services} services", file=sys.stderr)
        raw.commit()
        if postgres:
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return {"deployments": ids["d"], "commits": ids["c"], "incidents": ids["i"]}


def _insert(cursor: Any, table: str, columns: str, rows: list[tuple[Any, ...]], pg: bool) -> None:
    if not rows:
        return
    if pg:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(rows[0]))
    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def timed(function: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time of `repeat` runs (after one warm-up run) and the last result."""
    result = function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(
    db: Database, backend: str, sizes: dict[str, int], repeat: int
) -> Iterator[dict[str, Any]]:
    start, end = NOW - WINDOW, NOW
    one = "svc-042"

    def ours(service: str | None, trend: bool) -> Callable[[], object]:
        def run() -> object:
            with db.session() as session:
                return service_reports(session, start=start, end=end, service=service, trend=trend)

        return run

    def floor(service: str | None) -> Callable[[], object]:
        sql = text(floor_query(db.engine.dialect.name, service is not None))
        params = {"lo": start.timestamp(), "hi": end.timestamp(), "link": 86_400.0,
                  "service": service}  # fmt: skip

        def run() -> object:
            with db.engine.connect() as conn:
                return conn.execute(sql, params).all()

        return run

    cases = [("one_service", one, True, 0.1), ("all_services", None, False, 2.0)]
    for case, service, trend, target in cases:
        seconds, reports = timed(ours(service, trend), repeat)
        floor_seconds, rows = timed(floor(service), repeat)
        yield {
            "benchmark": "dora", "backend": backend, "case": case, "seconds": round(seconds, 4),
            "floor_seconds": round(floor_seconds, 4),
            "ratio_to_floor": round(seconds / floor_seconds, 2), "target_seconds": target,
            "met": seconds < target and seconds <= 2 * floor_seconds,
            "services": len(reports), "with_trend": trend,  # type: ignore[arg-type]
            "agrees_with_floor": agree(reports, rows), **sizes,  # type: ignore[arg-type]
        }  # fmt: skip


def agree(reports: list[Any], rows: list[Any]) -> bool:
    """The floor's figures equal ours (a cross-check of both)."""
    ours = {r.keys.service: r.keys for r in reports}
    for row in rows:
        keys = ours[row.service]
        pairs = [
            (keys.deployment_frequency.value, row.per_week),
            (keys.lead_time.value, row.lead_median),
            (keys.lead_time.details["p90_hours"], row.lead_p90),
            (keys.change_failure_rate.value, row.cfr),
            (keys.time_to_restore.value, row.ttr_median),
        ]
        for mine, theirs in pairs:
            if (mine is None) != (theirs is None) or (
                mine is not None and abs(mine - float(theirs)) > 1e-6 * max(1.0, abs(mine))
            ):
                print(f"disagree on {row.service}: {pairs}", file=sys.stderr)
                return False
    return len(rows) == len(ours)


def run_backend(url: str, backend: str, args: argparse.Namespace, reuse: bool = False) -> None:
    db = make_database(url)
    upgrade(db.engine)
    started = time.perf_counter()
    if reuse:
        with db.engine.connect() as conn:
            tables = {"deployments": "deployments", "commits": "changes", "incidents": "incidents"}
            sizes = {k: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                     for k, t in tables.items()}  # fmt: skip
    else:
        sizes = load(db, args, backend == "postgresql")
    seconds = round(time.perf_counter() - started, 1)
    line = {"benchmark": "dora", "backend": backend, "case": "load", "seconds": seconds}
    print(json.dumps({**line, "reused": reuse, **sizes}), flush=True)
    for line in measure(db, backend, sizes, args.repeat):
        print(json.dumps(line), flush=True)
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--deployments", type=int, default=1_000_000)
    parser.add_argument("--commits", type=int, default=5_000_000)
    parser.add_argument("--incidents", type=int, default=50_000)
    parser.add_argument("--commit-scale", type=float, default=1.0, help="Scale commits down.")
    parser.add_argument("--quick", action="store_true", help="1/20 of everything.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("CODE_TEST_POSTGRES_URL", ""))
    parser.add_argument("--keep", type=Path, help="Keep the SQLite file in this directory.")
    parser.add_argument("--reuse", action="store_true", help="Reuse the kept SQLite file.")
    parser.add_argument("--sqlite-only", action="store_true", help="Skip PostgreSQL.")
    parser.add_argument("--postgres-only", action="store_true", help="Skip SQLite.")
    args = parser.parse_args()
    if args.quick:
        args.deployments //= 20
        args.commits //= 20
        args.incidents //= 20
    args.commits = int(args.commits * args.commit_scale)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "dora-bench.db"
        reuse = args.reuse and path.exists()
        if not args.postgres_only:
            if not reuse:
                path.unlink(missing_ok=True)
            run_backend(f"sqlite:///{path}", "sqlite", args, reuse)
    if args.postgres and not args.sqlite_only:
        run_postgres(args)


def run_postgres(args: argparse.Namespace) -> None:
    """In a fresh database, dropped afterwards unless --keep (then reused with --reuse)."""
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = "code_bench_dora" if args.keep else f"code_bench_dora_{os.getpid()}"
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        reuse = bool(exists) and args.reuse
        if exists and not reuse:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not reuse:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{args.postgres.rpartition('/')[0]}/{name}"
        run_backend(url, "postgresql", args, reuse)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
