"""Backup and restore throughput of `codectl dr` against the raw tools, in the same run.

PostgreSQL: a pgbench database (scale 70 is about 1 GB) backed up by `codectl dr backup`
(zstd + AES-256-GCM) against `pg_dump -Fc`, restored by `codectl dr restore` against
`CREATE DATABASE` + `pg_restore -j 2`. SQLite: a file of about `--sqlite-mb` MB against
`sqlite3 .backup` and `.restore`. Target: at least 0.9x the raw tool's throughput both ways.
Prints a JSON line per figure (throughput in MB/s of live data, ratio to the raw tool, bytes
stored) and a drill's RTO.

    python benchmarks/dr.py [--scale 70] [--sqlite-mb 1024] [--repeat 5] [--postgres-url URL]
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
from dataclasses import dataclass, field
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
      url_env: BENCH_PG_URL{pg_smoke}
    - {{name: bench-sqlite, kind: sqlite, path: {sqlite}{sqlite_smoke}}}
"""
# smoke queries are the user's own work on top of a restore (a full count of the big table
# here): timed in the drill, left out of the throughput figures, where both sides restore
# and `codectl dr restore` still runs its own checks (integrity_check, SELECT 1, the tables)
SMOKE = {
    "pg_smoke": '\n      smoke: ["SELECT count(*) FROM pgbench_accounts"]',
    "sqlite_smoke": ', smoke: ["SELECT count(*) FROM rows"]',
}
NO_SMOKE = dict.fromkeys(SMOKE, "")


def emit(**figure: Any) -> None:
    print(json.dumps(figure), flush=True)


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    # what the previous step left to write back is written before the clock starts, not
    # charged to whichever side runs next
    os.sync()
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


@dataclass
class Bench:
    """Both sides of every figure, on one database, one SQLite file and one store."""

    work: Path
    base: str  # the server's libpq URL without a database
    name: str  # the pgbench database
    admin: psycopg.Connection[Any]
    sqlite_path: Path
    env: dict[str, str] = field(default_factory=dict)
    codectl: list[str] = field(default_factory=lambda: [sys.executable, "-m", "code_engine"])
    best: dict[str, float] = field(default_factory=dict)
    taken: dict[str, dict[str, Any]] = field(default_factory=dict)

    def keep(self, label: str, seconds: float) -> None:
        self.best[label] = min(self.best.get(label, seconds), seconds)

    def ours(self, *argv: str) -> tuple[float, str]:
        return timed([*self.codectl, *argv, "-o", "json"], self.env)

    @property
    def dump(self) -> Path:
        return self.work / "raw.dump"

    def settle(self) -> None:
        """What the previous step left to the server (dirty buffers, a restored database that
        autovacuum would read) is done with before a PostgreSQL step's clock starts."""
        self.admin.execute("CHECKPOINT")
        os.sync()

    def drop(self, database: str) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def raw_pg(self, raw_db: str) -> None:
        self.dump.unlink(missing_ok=True)
        self.settle()
        pg_dump = ["pg_dump", "-Fc", "-f", str(self.dump), f"{self.base}/{self.name}"]
        self.keep("raw_dump", timed(pg_dump)[0])
        # both ways create the database they restore into, as `codectl dr restore` does
        self.settle()
        started = time.perf_counter()
        self.admin.execute(f'CREATE DATABASE "{raw_db}"')
        made = time.perf_counter() - started
        restore = ["pg_restore", "-j", "2", "--no-owner", "-d", f"{self.base}/{raw_db}"]
        self.keep("raw_restore", made + timed([*restore, str(self.dump)])[0])
        self.drop(raw_db)

    def ours_pg(self, ours_db: str) -> None:
        self.settle()
        seconds, out = self.ours("dr", "backup", "--source", "bench-pg")
        self.keep("ours_dump", seconds)
        self.taken["pg"] = json.loads(out)[0]
        self.settle()
        restore = ("dr", "restore", "--id", self.taken["pg"]["id"], "--target", ours_db)
        self.keep("ours_restore", self.ours(*restore)[0])
        self.drop(ours_db)

    def raw_sqlite(self, round_: int) -> None:
        copy = self.work / "raw-copy.db"
        copy.unlink(missing_ok=True)
        self.keep("raw_backup", timed(["sqlite3", str(self.sqlite_path), f".backup {copy}"])[0])
        target = self.work / f"raw-restored-{round_}.db"
        self.keep("raw_back", timed(["sqlite3", str(target), f".restore {copy}"])[0])
        target.unlink()

    def ours_sqlite(self, round_: int) -> None:
        seconds, out = self.ours("dr", "backup", "--source", "bench-sqlite")
        self.keep("ours_backup", seconds)
        self.taken["sqlite"] = json.loads(out)[0]
        target = self.work / f"ours-restored-{round_}.db"
        restore = ("dr", "restore", "--id", self.taken["sqlite"]["id"], "--target", str(target))
        self.keep("ours_back", self.ours(*restore)[0])
        self.keep("check", integrity_seconds(target))
        target.unlink()

    def rounds(self, repeat: int, created: list[str]) -> None:
        """Each side `repeat` times in alternating order, the best time of each kept.

        SQLite's rounds first, then PostgreSQL's: a PostgreSQL round writes and drops
        gigabytes, which measurably slowed whichever side wrote next (both sides' SQLite
        restores took 1.6 s to 4 s after one)."""
        for round_ in range(repeat):
            sides = [self.raw_sqlite, self.ours_sqlite]
            for side in sides if round_ % 2 == 0 else sides[::-1]:
                side(round_)
        for round_ in range(repeat):
            raw_db, ours_db = f"{self.name}_raw{round_}", f"{self.name}_ours{round_}"
            created += [raw_db, ours_db]
            if round_ % 2 == 0:
                self.raw_pg(raw_db)
                self.ours_pg(ours_db)
            else:
                self.ours_pg(ours_db)
                self.raw_pg(raw_db)

    def report(self, pg_size: int, scale: int, repeat: int) -> None:
        best, sqlite_size = self.best, self.sqlite_path.stat().st_size
        figure("postgres_backup", pg_size, best["ours_dump"], best["raw_dump"],
               stored_bytes=self.taken["pg"]["stored_bytes"],
               raw_tool_bytes=self.dump.stat().st_size, scale=scale, repeat=repeat)  # fmt: skip
        figure("postgres_restore", pg_size, best["ours_restore"], best["raw_restore"],
               scale=scale, repeat=repeat)  # fmt: skip
        figure("sqlite_backup", sqlite_size, best["ours_backup"], best["raw_backup"],
               stored_bytes=self.taken["sqlite"]["stored_bytes"], repeat=repeat)  # fmt: skip
        # the restore must run `PRAGMA integrity_check` over the whole copy, which `.restore`
        # does not: even a restore whose every other part cost nothing is bounded by it
        check, bound = best["check"], best["raw_back"] / (best["check"] + STARTUP[0])
        figure("sqlite_restore", sqlite_size, best["ours_back"], best["raw_back"],
               repeat=repeat, integrity_check_seconds=round(check, 3),
               ratio_bound_by_check=round(bound, 3),
               ratio_bound_by_check_without_startup=round(best["raw_back"] / check, 3))  # fmt: skip

    def drill(self, spec: Path, store: Path) -> None:
        """A drill over every source: restore into scratch, checks, smoke queries."""
        spec.write_text(SPEC.format(store=store, sqlite=self.sqlite_path, **SMOKE))
        for own in ("code-database", "code-data", "service-config"):
            self.ours("dr", "backup", "--source", own)
        drill = json.loads(self.ours("dr", "drill")[1])
        emit(benchmark="dr_drill", rto_seconds=drill["rto_seconds"], status=drill["status"],
             rto_objective_seconds=drill["rto_objective_seconds"])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=70, help="pgbench scale (70: about 1 GB)")
    parser.add_argument("--sqlite-mb", type=int, default=1024, help="size of the SQLite file")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side; best kept")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CODE_TEST_POSTGRES_URL", ""),
        help="a server where a scratch database may be created",
    )
    args = parser.parse_args()
    if not args.postgres_url:
        raise SystemExit("give --postgres-url (or set CODE_TEST_POSTGRES_URL)")
    work = Path(tempfile.mkdtemp(prefix="code-dr-bench-"))
    admin = psycopg.connect(libpq(args.postgres_url), autocommit=True)
    bench = Bench(
        work=work,
        base=libpq(args.postgres_url).rpartition("/")[0],
        name=f"code_bench_dr_{secrets.token_hex(3)}",
        admin=admin,
        sqlite_path=work / "app.db",
    )
    created = [bench.name]
    try:
        admin.execute(f'CREATE DATABASE "{bench.name}"')
        timed(["pgbench", "-i", "-q", "-s", str(args.scale), f"{bench.base}/{bench.name}"])
        size = admin.execute("SELECT pg_database_size(%s)", (bench.name,)).fetchone()
        make_sqlite(bench.sqlite_path, args.sqlite_mb)
        store, spec = work / "store", work / "code.yaml"
        spec.write_text(SPEC.format(store=store, sqlite=bench.sqlite_path, **NO_SMOKE))
        key = work / "secrets" / "dr.key"
        subprocess.run(
            [*bench.codectl, "dr", "key", "generate", str(key)], check=True, capture_output=True
        )
        # bytecode cached as in an installed `codectl` (the first command below writes it)
        bench.env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "CODE_DATA_DIR": str(work / "data"),
            "CODE_DR_SPEC": str(spec),
            "CODE_DR_KEY_FILE": str(key),
            "BENCH_PG_URL": f"{bench.base}/{bench.name}",
            "NO_COLOR": "1",
        }
        subprocess.run([*bench.codectl, "db", "upgrade"], check=True, capture_output=True,
                       env=bench.env)  # fmt: skip
        # the fixed cost of one `codectl dr` command: process start, settings, the database
        STARTUP.append(min(bench.ours("dr", "list")[0] for _ in range(3)))
        emit(benchmark="dr_codectl_fixed_cost", seconds=round(STARTUP[0], 3))
        bench.rounds(args.repeat, created)
        bench.report(int(size[0]) if size else 0, args.scale, args.repeat)
        bench.drill(spec, store)
    finally:
        for database in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
