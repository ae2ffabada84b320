"""Backup and restore throughput of `codectl dr` against the raw tools, in the same run.

PostgreSQL: a pgbench database (scale 70 is about 1 GB) backed up by `codectl dr backup`
(zstd + AES-256-GCM) against `pg_dump -Fc`, restored by `codectl dr restore` against
`CREATE DATABASE` + `pg_restore -j 2`. SQLite: a file of about `--sqlite-mb` MB against
`sqlite3 .backup` and `.restore`. Target: at least 0.9x the raw tool's throughput both ways.
Prints a JSON line per figure (throughput in MB/s of live data, ratio to the raw tool, bytes
stored) and a drill's RTO.

    python benchmarks/dr.py [--scale 70] [--sqlite-mb 1024] [--repeat 2] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

TARGET_RATIO = 0.9
SPEC = """\
service: bench
repo: .
environments:
  - name: dev
    target: {{kind: local, command: "app {{port}}"}}
backup:
  store: {store}
  sources:
    - name: bench-pg
      kind: postgres
      url_env: BENCH_PG_URL
      smoke: ["SELECT count(*) FROM pgbench_accounts"]
    - {{name: bench-sqlite, kind: sqlite, path: {sqlite}, smoke: ["SELECT count(*) FROM rows"]}}
"""


def emit(**figure: Any) -> None:
    print(json.dumps(figure), flush=True)


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {done.stderr.strip()[-500:]}")
    return elapsed, done.stdout


def libpq(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


STARTUP: list[float] = []


def figure(name: str, size: int, ours: float, raw: float, **extra: Any) -> None:
    """End to end (the command as a user runs it), and without the fixed cost of a command."""
    mb = size / 1e6
    ratio = raw / ours
    work = ours - STARTUP[0]
    emit(
        benchmark=f"dr_{name}",
        live_mb=round(mb, 1),
        codectl_seconds=round(ours, 3),
        raw_seconds=round(raw, 3),
        codectl_mb_per_s=round(mb / ours, 1),
        raw_mb_per_s=round(mb / raw, 1),
        ratio=round(ratio, 3),
        # None when the command took less than its fixed cost measured apart (noise)
        ratio_without_startup=round(raw / work, 3) if work > 0 else None,
        target=TARGET_RATIO,
        met=ratio >= TARGET_RATIO,
        **extra,
    )


def integrity_seconds(path: Path) -> float:
    """`PRAGMA integrity_check` alone, on a copy still in the page cache (as a restore runs it)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        started = time.perf_counter()
        result = conn.execute("PRAGMA integrity_check").fetchall()
        seconds = time.perf_counter() - started
    finally:
        conn.close()
    if result != [("ok",)]:
        raise SystemExit(f"{path}: integrity_check failed: {result[:3]}")
    return seconds


def make_sqlite(path: Path, megabytes: int) -> None:
    """Rows of mixed text: compressible like real application data, not all zeros."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT, payload TEXT)")
    words = [secrets.token_hex(4) for _ in range(5000)]
    while path.stat().st_size < megabytes * 1_000_000:
        batch = [
            (f"row {i}", " ".join(words[(i * 7 + j) % 5000] for j in range(20)))
            for i in range(20000)
        ]
        conn.executemany("INSERT INTO rows (name, payload) VALUES (?, ?)", batch)
        conn.commit()
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=70, help="pgbench scale (70: about 1 GB)")
    parser.add_argument("--sqlite-mb", type=int, default=1024, help="size of the SQLite file")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side; best kept")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CODE_TEST_POSTGRES_URL", ""),
        help="a server where a scratch database may be created",
    )
    args = parser.parse_args()
    if not args.postgres_url:
        raise SystemExit("give --postgres-url (or set CODE_TEST_POSTGRES_URL)")
    work = Path(tempfile.mkdtemp(prefix="code-dr-bench-"))
    codectl = [sys.executable, "-m", "code_engine"]
    name = f"code_bench_dr_{secrets.token_hex(3)}"
    base = libpq(args.postgres_url).rpartition("/")[0]
    admin = psycopg.connect(libpq(args.postgres_url), autocommit=True)
    created = [name]
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        timed(["pgbench", "-i", "-q", "-s", str(args.scale), f"{base}/{name}"])
        pg_size = int(admin.execute("SELECT pg_database_size(%s)", (name,)).fetchone()[0])  # type: ignore[index]
        sqlite_path = work / "app.db"
        make_sqlite(sqlite_path, args.sqlite_mb)
        store = work / "store"
        (work / "code.yaml").write_text(SPEC.format(store=store, sqlite=sqlite_path))
        key = work / "secrets" / "dr.key"
        subprocess.run(
            [*codectl, "dr", "key", "generate", str(key)], check=True, capture_output=True
        )
        # bytecode cached as in an installed `codectl` (the first command below writes it)
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "CODE_DATA_DIR": str(work / "data"),
            "CODE_DR_SPEC": str(work / "code.yaml"),
            "CODE_DR_KEY_FILE": str(key),
            "BENCH_PG_URL": f"{base}/{name}",
            "NO_COLOR": "1",
        }
        subprocess.run([*codectl, "db", "upgrade"], check=True, capture_output=True, env=env)
        # the fixed cost of one `codectl dr` command: process start, settings, database check
        STARTUP.append(min(timed([*codectl, "dr", "list", "-o", "json"], env)[0] for _ in range(3)))
        emit(benchmark="dr_codectl_fixed_cost", seconds=round(STARTUP[0], 3))

        # each side `--repeat` times, in alternating order (the page cache and the writeback
        # of the previous step favour neither), best time of each
        best: dict[str, float] = {}

        def keep(label: str, seconds: float) -> None:
            best[label] = min(best.get(label, seconds), seconds)

        dump = work / "raw.dump"
        copy = work / "raw-copy.db"
        sqlite_size = sqlite_path.stat().st_size
        taken: dict[str, Any] = {}
        taken_sqlite: dict[str, Any] = {}
        for round_ in range(args.repeat):
            raw_db, ours_db = f"{name}_raw{round_}", f"{name}_ours{round_}"
            created += [raw_db, ours_db]

            def raw_pg(raw_db: str = raw_db) -> None:
                dump.unlink(missing_ok=True)
                keep("raw_dump", timed(["pg_dump", "-Fc", "-f", str(dump), f"{base}/{name}"])[0])
                # both ways create the database they restore into, as `codectl dr restore` does
                started = time.perf_counter()
                admin.execute(f'CREATE DATABASE "{raw_db}"')
                made = time.perf_counter() - started
                restore = ["pg_restore", "-j", "2", "--no-owner", "-d", f"{base}/{raw_db}"]
                keep("raw_restore", made + timed([*restore, str(dump)])[0])

            def ours_pg(ours_db: str = ours_db) -> None:
                seconds, out = timed([*codectl, "dr", "backup", "--source", "bench-pg", "-o",
                                      "json"], env)  # fmt: skip
                keep("ours_dump", seconds)
                taken.update(json.loads(out)[0])
                argv = [*codectl, "dr", "restore", "--id", taken["id"], "--target", ours_db]
                keep("ours_restore", timed([*argv, "-o", "json"], env)[0])

            def raw_sqlite(round_: int = round_) -> None:
                copy.unlink(missing_ok=True)
                keep("raw_backup", timed(["sqlite3", str(sqlite_path), f".backup {copy}"])[0])
                target = work / f"raw-restored-{round_}.db"
                keep("raw_back", timed(["sqlite3", str(target), f".restore {copy}"])[0])
                target.unlink()

            def ours_sqlite(round_: int = round_) -> None:
                seconds, out = timed([*codectl, "dr", "backup", "--source", "bench-sqlite", "-o",
                                      "json"], env)  # fmt: skip
                keep("ours_backup", seconds)
                taken_sqlite.update(json.loads(out)[0])
                target = work / f"ours-restored-{round_}.db"
                argv = [*codectl, "dr", "restore", "--id", taken_sqlite["id"], "--target"]
                keep("ours_back", timed([*argv, str(target), "-o", "json"], env)[0])
                keep("check", integrity_seconds(target))
                target.unlink()

            steps = [raw_pg, ours_pg] if round_ % 2 == 0 else [ours_pg, raw_pg]
            steps += [raw_sqlite, ours_sqlite] if round_ % 2 == 0 else [ours_sqlite, raw_sqlite]
            for step in steps:
                step()
            for database in (raw_db, ours_db):
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

        figure("postgres_backup", pg_size, best["ours_dump"], best["raw_dump"],
               stored_bytes=taken["stored_bytes"], raw_tool_bytes=dump.stat().st_size,
               scale=args.scale, repeat=args.repeat)  # fmt: skip
        figure("postgres_restore", pg_size, best["ours_restore"], best["raw_restore"],
               scale=args.scale, repeat=args.repeat)  # fmt: skip
        figure("sqlite_backup", sqlite_size, best["ours_backup"], best["raw_backup"],
               stored_bytes=taken_sqlite["stored_bytes"], repeat=args.repeat)  # fmt: skip
        # the restore must run `PRAGMA integrity_check` over the whole copy, which `.restore`
        # does not: even a restore whose every other part cost nothing is bounded by it
        check, bound = best["check"], best["raw_back"] / (best["check"] + STARTUP[0])
        figure("sqlite_restore", sqlite_size, best["ours_back"], best["raw_back"],
               repeat=args.repeat, integrity_check_seconds=round(check, 3),
               ratio_bound_by_check=round(bound, 3),
               ratio_bound_by_check_without_startup=round(best["raw_back"] / check, 3))  # fmt: skip

        # a drill over every source: restore into scratch, checks, smoke queries
        for own in ("code-database", "code-data", "service-config"):
            timed([*codectl, "dr", "backup", "--source", own], env)
        _, out = timed([*codectl, "dr", "drill", "-o", "json"], env)
        drill = json.loads(out)
        emit(benchmark="dr_drill", rto_seconds=drill["rto_seconds"], status=drill["status"],
             rto_objective_seconds=drill["rto_objective_seconds"])  # fmt: skip
    finally:
        for database in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
