"""The schedule decision: due slots, a missed run once, a fresh install at its first slot."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from code_engine.dr.schedule import Due, ScheduleState, decide, next_wake

T = datetime(2026, 5, 1, 10, 7, tzinfo=timezone.utc)
HOURLY, MONTHLY = "7 * * * *", "0 4 1 * *"


def test_nothing_ever_ran_waits_for_the_first_slot_after_start() -> None:
    never = ScheduleState(None, None)
    assert decide(HOURLY, MONTHLY, never, T + timedelta(minutes=30), started=T) == []
    assert decide(HOURLY, MONTHLY, never, T + timedelta(hours=1), started=T) == [
        Due("backup", T + timedelta(hours=1))
    ]
    assert next_wake(HOURLY, MONTHLY, never, started=T) == T + timedelta(hours=1)


def test_nothing_due_before_the_next_slot() -> None:
    state = ScheduleState(T, T)
    assert decide(HOURLY, MONTHLY, state, T + timedelta(minutes=59), started=T) == []
    assert next_wake(HOURLY, MONTHLY, state, started=T) == T + timedelta(hours=1)


def test_missed_slots_run_once() -> None:
    state = ScheduleState(T, T - timedelta(days=40))
    now = T + timedelta(hours=5, minutes=3)
    assert decide(HOURLY, MONTHLY, state, now, started=now) == [
        Due("backup", T + timedelta(hours=1)),
        Due("drill", datetime(2026, 4, 1, 4, 0, tzinfo=timezone.utc)),
    ]
