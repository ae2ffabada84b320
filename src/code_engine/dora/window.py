"""The reporting window: the last N days, or explicit bounds; the clock is injected."""

from __future__ import annotations

from datetime import datetime, timedelta

from code_engine.clock import Clock
from code_engine.dora.events import to_utc

PRESET_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30


def resolve_window(
    clock: Clock,
    *,
    days: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[datetime, datetime]:
    """`[start, end)` in UTC: explicit bounds (end defaults to now) or the last `days` days."""
    if days is not None and start is not None:
        raise ValueError("days: give either days or start, not both")
    upper = to_utc(end, "end") if end is not None else to_utc(clock(), "now")
    if start is not None:
        lower = to_utc(start, "start")
    else:
        count = DEFAULT_DAYS if days is None else days
        if count <= 0:
            raise ValueError("days: must be a positive number of days")
        lower = upper - timedelta(days=count)
    if upper <= lower:
        raise ValueError("end: must be after start")
    if upper - lower > timedelta(days=MAX_DAYS):
        raise ValueError(f"start: a window spans at most {MAX_DAYS} days")
    return lower, upper


MAX_DAYS = 3660


def parse_days(text: str) -> int:
    """`30d` (or `30`) → 30; the presets are 7d, 30d and 90d, any 1-3660 days is accepted."""
    value = text.strip().lower().removesuffix("d")
    if not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise ValueError(f"window: {text!r} is not a number of days such as 7d, 30d or 90d")
    return int(value)
