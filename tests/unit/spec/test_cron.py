from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from code_engine.spec.cron import parse_cron


@pytest.mark.parametrize(
    ("expression", "gap"),
    [
        ("0 * * * *", timedelta(hours=1)),
        ("7 * * * *", timedelta(hours=1)),
        ("*/15 * * * *", timedelta(minutes=15)),
        ("0 2 * * *", timedelta(days=1)),
        ("0 9-17 * * mon-fri", timedelta(days=2, hours=16)),
        ("@daily", timedelta(days=1)),
        ("@weekly", timedelta(days=7)),
        ("0 0 29 feb *", timedelta(days=4 * 365 + 1)),
        ("0 0 1,15 * 5", timedelta(days=7)),
        ("0 0,12 * * *", timedelta(hours=12)),
    ],
)
def test_longest_gap(expression: str, gap: timedelta) -> None:
    assert parse_cron(expression).longest_gap() == gap


def test_fields_expand_ranges_steps_and_names() -> None:
    schedule = parse_cron("5/20 1-5/2 1,15 JAN-mar 7")
    assert schedule.minutes == {5, 25, 45}
    assert schedule.hours == {1, 3, 5}
    assert schedule.days == {1, 15}
    assert schedule.months == {1, 2, 3}
    assert schedule.weekdays == {0}


def test_day_of_month_or_day_of_week_when_both_are_set() -> None:
    schedule = parse_cron("0 0 13 * fri")
    assert schedule.matches_day(date(2024, 3, 13))  # a Wednesday, the 13th
    assert schedule.matches_day(date(2024, 3, 15))  # a Friday
    assert not schedule.matches_day(date(2024, 3, 14))


def test_day_of_week_alone_restricts() -> None:
    schedule = parse_cron("0 0 * * sun")
    assert schedule.matches_day(date(2024, 3, 3))
    assert not schedule.matches_day(date(2024, 3, 4))


def test_next_after_keeps_timezone_and_skips_to_next_run() -> None:
    schedule = parse_cron("30 2 * * *")
    moment = datetime(2024, 3, 1, 2, 30, tzinfo=timezone.utc)
    assert schedule.next_after(moment) == datetime(2024, 3, 2, 2, 30, tzinfo=timezone.utc)
    assert schedule.next_after(moment.replace(hour=1)) == moment


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "has 4 fields; expected 5"),
        ("60 * * * *", "minute field '60' is outside 0-59"),
        ("* 24 * * *", "hour field '24' is outside 0-23"),
        ("* * 0 * *", "day of month field '0' is outside 1-31"),
        ("* * * 13 *", "month field '13' is outside 1-12"),
        ("* * * * 8", "day of week field '8' is outside 0-7"),
        ("5-1 * * * *", "runs backwards"),
        ("*/0 * * * *", "has a step of 0"),
        ("x * * * *", "'x', which is not a number"),
        ("* * * foo *", "'foo', which is not a number"),
        ("0 0 30 2 *", "never runs"),
        ("@reboot", "unknown cron macro '@reboot'"),
        ("0", "has 1 field;"),
    ],
)
def test_invalid_expressions_say_why(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cron(expression)


def test_a_schedule_without_runs_has_no_next_run() -> None:
    schedule = replace(parse_cron("0 0 * * *"), months=frozenset())
    assert schedule.next_after(datetime(2024, 1, 1, tzinfo=timezone.utc)) is None
    assert schedule.longest_gap() is None


def test_next_after_skips_days_that_do_not_match() -> None:
    schedule = parse_cron("0 12 * * mon")
    assert schedule.next_after(datetime(2024, 3, 5, 9)) == datetime(2024, 3, 11, 12)
