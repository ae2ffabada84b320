"""Scheduled backups and drills: missed runs once, and run by the real `codectl worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from tests.integration.dr.conftest import Shop

from code_engine.cli.context import load_settings
from code_engine.dr import records
from code_engine.dr.config import load_config
from code_engine.dr.schedule import DrScheduler
from code_engine.dr.tables import BackupRow, DrillRow
from code_engine.store.engine import Database, make_database


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_a_missed_backup_runs_once_then_waits_for_its_slot(shop: Shop) -> None:
    settings = load_settings()
    db = make_database(settings.resolved_database_url)
    clock = Clock()
    scheduler = DrScheduler(db, load_config(settings), clock)
    assert scheduler.tick() == []  # a fresh install waits for its first slot
    clock.now += timedelta(minutes=6)  # the spec's schedule: every five minutes
    assert [d.kind for d in scheduler.tick()] == ["backup"]
    assert scheduler.tick() == []
    clock.now += timedelta(hours=3)  # the worker was down for 36 five-minute slots
    assert [d.kind for d in scheduler.tick()] == ["backup"]
    assert scheduler.tick() == []
    clock.now += timedelta(days=32)  # past the first of the month, 04:00: the drill is due
    assert [d.kind for d in scheduler.tick()] == ["backup", "drill"]
    with db.session() as session:
        rows = session.scalars(select(BackupRow)).all()
        assert {r.trigger for r in rows} == {"schedule"} and len(rows) == 15  # 5 sources, 3x
        drills = session.scalars(select(DrillRow)).all()
        assert [d.trigger for d in drills] == ["schedule"]
    assert len(shop.json("dr", "list")) == 15
    db.dispose()


def _missed_runs(db: Database) -> None:
    """A backup and a drill recorded 40 days ago: the worker was down since."""
    old = datetime.now(timezone.utc) - timedelta(days=40)
    with db.session() as session:
        records.record_backup(
            session, source="code-data", kind="directory", store="x", started_at=old,
            finished_at=old, trigger="schedule", error="long ago",
        )  # fmt: skip
        records.record_drill(
            session, started_at=old, finished_at=old, passed=True, trigger="schedule",
            rto_seconds=1.0, rpo_seconds=1.0, rto_objective=3600, rpo_objective=3600, sources={},
        )  # fmt: skip


def test_the_worker_runs_the_schedules(shop: Shop) -> None:
    seed = make_database(load_settings().resolved_database_url)
    _missed_runs(seed)
    seed.dispose()
    proc = subprocess.Popen(
        [sys.executable, "-m", "code_engine", "worker", "--poll", "0.2"],
        env={**os.environ, "CODE_LOG_FORMAT": "console"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = make_database(load_settings().resolved_database_url)
    try:
        deadline = time.monotonic() + 120
        while True:
            with db.session() as session:
                drills = session.scalars(select(DrillRow).where(DrillRow.id > 1)).all()
                backups = session.scalars(select(BackupRow).where(BackupRow.id > 1)).all()
            if drills:
                break
            assert proc.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "no scheduled drill"
            time.sleep(0.2)
        assert drills[0].status == "passed" and drills[0].trigger == "schedule"
        assert {b.source for b in backups} == {
            "code-database", "code-data", "service-config", "orders", "uploads"
        }  # fmt: skip
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        db.dispose()


def test_the_schedule_thread_runs_and_stops(shop: Shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    from code_engine.dr.schedule import start_from_settings

    settings = load_settings()
    db = make_database(settings.resolved_database_url)
    _missed_runs(db)
    stop = threading.Event()
    thread = start_from_settings(db, settings, stop)
    assert thread is not None
    deadline = time.monotonic() + 60
    while True:
        with db.session() as session:
            if session.scalars(select(DrillRow).where(DrillRow.id > 1)).first() is not None:
                break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    monkeypatch.setenv("CODE_DR_SPEC", str(shop.root / "missing.yaml"))
    monkeypatch.setenv("LEDGER_URL", "")
    (shop.root / "bad.yaml").write_text(
        (shop.root / "code.yaml").read_text()
        + "    - {name: ledger, kind: postgres, url_env: LEDGER_URL}\n"
    )
    monkeypatch.setenv("CODE_DR_SPEC", str(shop.root / "bad.yaml"))
    assert start_from_settings(db, load_settings(), stop) is None  # logged, not fatal
    db.dispose()
