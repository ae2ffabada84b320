"""Scheduled backups and drills: a pure `decide` and an executor the worker runs.

Only the worker that leads (`dr.leader`) runs them: two workers never both run a backup or
a drill of the same slot.

A run whose time came while no worker was up runs once when one starts, however many slots
were missed. With no run recorded at all, the first slot after the worker started is the first
run (a fresh install is not backed up and drilled the moment a worker starts).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from code_engine.clock import Clock, utc_now
from code_engine.dr import records
from code_engine.dr.config import DrConfig
from code_engine.dr.leader import Leadership, leadership_for
from code_engine.errors import CodeError
from code_engine.settings import Settings
from code_engine.spec import parse_cron
from code_engine.store.engine import Database

log = logging.getLogger(__name__)
Kind = Literal["backup", "drill"]
IDLE_SECONDS = 30.0


@dataclass(frozen=True)
class ScheduleState:
    last_backup_at: datetime | None
    last_drill_at: datetime | None


@dataclass(frozen=True)
class Due:
    kind: Kind
    slot: datetime  # the scheduled time that was reached


def decide(
    backup_schedule: str,
    drill_schedule: str,
    state: ScheduleState,
    now: datetime,
    started: datetime,
) -> list[Due]:
    """What to run now: at most one backup, then at most one drill, however many slots passed.

    `started` (when the worker started) stands in for a run that was never recorded.
    """
    actions = []
    for kind, expression, last in (
        ("backup", backup_schedule, state.last_backup_at),
        ("drill", drill_schedule, state.last_drill_at),
    ):
        slot = parse_cron(expression).next_after(last or started)
        if slot is not None and slot <= now:
            actions.append(Due(kind, slot))  # type: ignore[arg-type]
    return actions


def next_wake(
    backup_schedule: str, drill_schedule: str, state: ScheduleState, started: datetime
) -> datetime | None:
    slots = [
        parse_cron(expr).next_after(last or started)
        for expr, last in (
            (backup_schedule, state.last_backup_at),
            (drill_schedule, state.last_drill_at),
        )
    ]
    present = [s for s in slots if s is not None]
    return min(present, default=None)


def read_state(db: Database) -> ScheduleState:
    with db.session() as session:
        drill = records.last_drill(session)
        return ScheduleState(
            records.last_backup_start(session), drill.started_at if drill else None
        )


class DrScheduler:
    """Executes what `decide` returns; every outcome is already recorded by the service layer."""

    def __init__(
        self,
        db: Database,
        config: DrConfig,
        clock: Clock = utc_now,
        leadership: Leadership | None = None,
    ) -> None:
        self.db, self.config, self.clock = db, config, clock
        self.started = clock()
        self.leadership = leadership or leadership_for(db, clock)

    def tick(self) -> list[Due]:
        """Run whatever is due now, when this worker leads; returns what ran."""
        from code_engine.dr.drill import drill
        from code_engine.dr.service import DrContext, backup

        if not self.leadership.lead():
            return []  # another worker runs the schedules
        state = read_state(self.db)
        due = decide(
            self.config.schedule, self.config.drill_schedule, state, self.clock(), self.started
        )
        for item in due:
            ctx = DrContext(
                self.config, db=self.db, clock=self.clock, principal="worker", trigger="schedule"
            )
            try:
                if item.kind == "backup":
                    backup(ctx)
                else:
                    drill(ctx)
            except CodeError as exc:  # recorded as failed; the next slot tries again
                log.error("scheduled %s failed: %s", item.kind, exc)
        return due

    def run(self, stop: threading.Event, idle: float = IDLE_SECONDS) -> None:
        while not stop.is_set():
            try:
                self.tick()
                wake = next_wake(
                    self.config.schedule,
                    self.config.drill_schedule,
                    read_state(self.db),
                    self.started,
                )
                delay = idle if wake is None else (wake - self.clock()).total_seconds()
            except Exception:  # the database may be away: try again later
                log.exception("DR scheduler tick failed; retrying")
                delay = idle
            stop.wait(min(max(delay, 1.0), idle))
        try:
            self.leadership.release()
        except Exception:  # the database may be away: the lock or lease lapses on its own
            log.exception("DR scheduler could not give leadership up")


def start_schedules(
    db: Database, config: DrConfig, stop: threading.Event, clock: Clock = utc_now
) -> threading.Thread:
    """The worker's hook: runs backup and drill schedules on a daemon thread until `stop`."""
    scheduler = DrScheduler(db, config, clock)
    thread = threading.Thread(target=scheduler.run, args=(stop,), name="code-dr", daemon=True)
    thread.start()
    return thread


def start_from_settings(
    db: Database, settings: Settings, stop: threading.Event
) -> threading.Thread | None:
    """`start_schedules` with the engine's DR configuration; a bad one is logged, not fatal."""
    from code_engine.dr.config import load_config

    try:
        config = load_config(settings)
    except CodeError as exc:
        log.error("backup and drill schedules not started: %s", exc)
        return None
    return start_schedules(db, config, stop)
