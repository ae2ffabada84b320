"""Two workers never both run a scheduled backup or drill: leadership by the shared database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.integration.dr.conftest import Shop
from tests.integration.dr.test_schedule_worker import _missed_runs
from tests.support.waiting import wait_until

from code_engine.cli.context import load_settings
from code_engine.dr.leader import ADVISORY_KEY, AdvisoryLeadership, LeaseLeadership
from code_engine.dr.tables import BackupRow, DrillRow
from code_engine.store.engine import Database, make_database
from code_engine.store.migrate import upgrade


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = make_database(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


def _two(db: Database) -> tuple[object, object]:
    if db.is_sqlite:
        first, second = LeaseLeadership(db), LeaseLeadership(db)
        second.owner = f"{second.owner}-other"  # the same host and pid: a second worker's id
        return first, second
    return AdvisoryLeadership(db), AdvisoryLeadership(db)


def test_one_leads_until_it_lets_go(db: Database) -> None:
    first, second = _two(db)
    assert first.lead() and first.lead()  # type: ignore[attr-defined]
    assert not second.lead()  # type: ignore[attr-defined]
    first.release()  # type: ignore[attr-defined]
    assert second.lead()  # type: ignore[attr-defined]
    assert not first.lead()  # type: ignore[attr-defined]
    second.release()  # type: ignore[attr-defined]


def test_an_expired_lease_or_a_dead_owner_is_taken_over(tmp_path: Path) -> None:
    db = make_database(f"sqlite:///{tmp_path / 'code.db'}")
    upgrade(db.engine)
    now = [datetime(2026, 12, 1, tzinfo=timezone.utc)]
    stale = LeaseLeadership(db, clock=lambda: now[0], ttl=timedelta(seconds=60))
    stale.owner = "elsewhere:1"  # another host: only expiry frees it
    assert stale._acquire()
    late = LeaseLeadership(db, clock=lambda: now[0])
    assert not late.lead()
    now[0] += timedelta(seconds=61)
    assert late.lead()
    late.release()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = LeaseLeadership(db, clock=lambda: now[0], ttl=timedelta(hours=1))
    gone.owner = f"{gone.owner.split(':')[0]}:{dead.pid}"  # a worker of this host, killed
    assert gone._acquire()
    assert late.lead()  # taken at once, long before the hour
    late.release()
    db.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_run_each_scheduled_job_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CODE_DATABASE_URL", database_url)
    shop: Shop = request.getfixturevalue("shop")
    db = make_database(load_settings().resolved_database_url)
    _missed_runs(db)  # a backup and a drill are due at once in both workers
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "code_engine", "worker", "--poll", "0.2"],
            env={**os.environ, "CODE_LOG_FORMAT": "console"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:

        def drilled() -> bool:
            assert all(w.poll() is None for w in workers), "a worker exited"
            with db.session() as session:
                return session.scalars(select(DrillRow).where(DrillRow.id > 1)).first() is not None

        wait_until(drilled, timeout=120, what="a scheduled drill")
        with db.session() as session:
            drills = session.scalars(select(DrillRow).where(DrillRow.id > 1)).all()
            backups = session.scalars(select(BackupRow).where(BackupRow.id > 1)).all()
        assert len(drills) == 1
        assert sorted(b.source for b in backups) == [
            "code-data",
            "code-database",
            "orders",
            "service-config",
            "uploads",
        ]
        assert len(shop.json("dr", "list")) == 5
        with db.engine.connect() as conn:  # the leader still holds the lock, the other waits
            held = conn.execute(
                text(
                    "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.granted "
                    # advisory locks are per database: other tests' servers hold theirs
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ),
                {"k": ADVISORY_KEY},
            ).all()
        assert len(held) == 1
        assert held[0][0] != "idle in transaction"  # the lock's connection holds no snapshot
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
        db.dispose()
