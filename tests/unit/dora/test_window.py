"""Reporting windows from an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from code_engine.dora.window import resolve_window

NOW = datetime(2024, 6, 30, 12, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


def test_default_is_the_last_30_days() -> None:
    assert resolve_window(clock) == (NOW - timedelta(days=30), NOW)


@pytest.mark.parametrize("days", [7, 30, 90])
def test_presets(days: int) -> None:
    assert resolve_window(clock, days=days) == (NOW - timedelta(days=days), NOW)


def test_explicit_bounds_in_any_offset() -> None:
    start = datetime(2024, 6, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    end = datetime(2024, 6, 8, tzinfo=timezone.utc)
    assert resolve_window(clock, start=start, end=end) == (
        datetime(2024, 6, 1, tzinfo=timezone.utc),
        end,
    )
    assert resolve_window(clock, start=start)[1] == NOW


def test_days_back_from_an_explicit_end() -> None:
    end = datetime(2024, 6, 8, tzinfo=timezone.utc)
    assert resolve_window(clock, days=7, end=end) == (end - timedelta(days=7), end)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days: must be a positive"),
        ({"days": 7, "start": NOW}, "days: give either"),
        ({"start": NOW}, "end: must be after start"),
    ],
)
def test_invalid_windows(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_window(clock, **kwargs)  # type: ignore[arg-type]
