"""The schedule decision: due slots, a missed run once, never-run sources at once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from code_engine.dr.schedule import Due, ScheduleState, decide, next_wake

T = datetime(2026, 5, 1, 10, 7, tzinfo=timezone.utc)
HOURLY, MONTHLY = "7 * * * *", "0 4 1 * *"


def test_nothing_ever_ran_runs_both_now() -> None:
    assert decide(HOURLY, MONTHLY, ScheduleState(None, None), T) == [
        Due("backup", None),
        Due("drill", None),
    ]


def test_nothing_due_before_the_next_slot() -> None:
    state = ScheduleState(T, T)
    assert decide(HOURLY, MONTHLY, state, T + timedelta(minutes=59)) == []
    assert next_wake(HOURLY, MONTHLY, state) == T + timedelta(hours=1)


def test_missed_slots_run_once() -> None:
    state = ScheduleState(T, T - timedelta(days=40))
    due = decide(HOURLY, MONTHLY, state, T + timedelta(hours=5, minutes=3))
    assert due == [
        Due("backup", T + timedelta(hours=1)),
        Due("drill", datetime(2026, 5, 1, 4, 0, tzinfo=timezone.utc) - timedelta(days=30)),
    ]
