"""Five-field cron expressions (Vixie cron semantics): parsing, matching, and the longest gap.

Written here rather than taken from a cron library: `code.yaml` needs the expression checked
as a pydantic type (its error placed on the YAML line) and the longest gap between two runs
(a backup schedule against its RPO), which the libraries do not compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

CRON_PATTERN = r"^(@(hourly|daily|midnight|weekly|monthly|yearly|annually)|\S+(\s+\S+){4})$"
_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_WEEKDAYS = "sun mon tue wed thu fri sat".split()
# (name, lowest, highest, names mapped to numbers)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTHS)}),
    ("day of week", 0, 7, {name: i for i, name in enumerate(_WEEKDAYS)}),
)
# Eight years hold two leap days, so even `0 0 29 2 *` shows its true gap.
_HORIZON_DAYS = 8 * 366


@dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression; the sets hold every value each field allows."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def matches_day(self, day: date) -> bool:
        """Whether the schedule runs on `day` (day-of-month OR day-of-week when both are set)."""
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays

    def times_of_day(self) -> list[int]:
        """The minutes after midnight at which the schedule runs, ascending."""
        return sorted(h * 60 + m for h in self.hours for m in self.minutes)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first run strictly after `moment` (same tzinfo), or None if it never runs."""
        times = self.times_of_day()
        start = moment.replace(second=0, microsecond=0)
        after = start.hour * 60 + start.minute
        for offset in range(_HORIZON_DAYS):
            day = start.date() + timedelta(days=offset)
            if not self.matches_day(day):
                continue
            for minute in times:
                if offset or minute > after:
                    midnight = datetime.combine(day, datetime.min.time(), moment.tzinfo)
                    return midnight + timedelta(minutes=minute)
        return None

    def longest_gap(self) -> timedelta | None:
        """The longest time between two consecutive runs, or None if it never runs."""
        times = self.times_of_day()
        start = date(2024, 1, 1)
        run_days = [
            offset
            for offset in range(_HORIZON_DAYS)
            if self.matches_day(start + timedelta(days=offset))
        ]
        if not run_days:
            return None
        within = max((b - a for a, b in zip(times, times[1:], strict=False)), default=0)
        between = max(
            (
                (b - a) * 1440 - times[-1] + times[0]
                for a, b in zip(run_days, run_days[1:], strict=False)
            ),
            default=_HORIZON_DAYS * 1440,
        )
        return timedelta(minutes=max(within, between))


def parse_cron(expression: str) -> CronSchedule:
    """Parse `m h dom mon dow` (or a macro like `@daily`); raise ValueError with the reason."""
    text = _MACROS.get(expression.strip().lower(), expression)
    if text.startswith("@"):
        raise ValueError(f"unknown cron macro {expression!r}; use one of {', '.join(_MACROS)}")
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(
            f"cron expression {expression!r} has {len(parts)} field{'' if len(parts) == 1 else 's'}"
            "; expected 5: minute hour day-of-month month day-of-week"
        )
    values = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    schedule = CronSchedule(
        expression=expression,
        minutes=values[0],
        hours=values[1],
        days=values[2],
        months=values[3],
        weekdays=frozenset(d % 7 for d in values[4]),
        days_restricted=not parts[2].startswith("*"),
        weekdays_restricted=not parts[4].startswith("*"),
    )
    if schedule.longest_gap() is None:
        raise ValueError(f"cron expression {expression!r} never runs")
    return schedule


def _parse_field(
    text: str, name: str, low: int, high: int, names: dict[str, int]
) -> frozenset[int]:
    values: set[int] = set()
    for item in text.lower().split(","):
        base, _, step_text = item.partition("/")
        step = _number(step_text, name, names={}) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first_text, _, last_text = base.partition("-")
            first, last = _number(first_text, name, names), _number(last_text, name, names)
        else:
            first = _number(base, name, names)
            last = high if step_text else first
        if step < 1:
            raise ValueError(f"{name} field {text!r} has a step of 0")
        if first > last:
            raise ValueError(f"{name} field {text!r} has a range that runs backwards")
        if first < low or last > high:
            raise ValueError(f"{name} field {text!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _number(text: str, name: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(f"{name} field has {text!r}, which is not a number")
    return int(text)


def _validate(expression: str) -> str:
    try:
        parse_cron(expression)
    except ValueError as exc:
        raise PydanticCustomError("cron", str(exc)) from None
    return expression


CronExpression = Annotated[
    str,
    AfterValidator(_validate),
    WithJsonSchema({"type": "string", "pattern": CRON_PATTERN, "examples": ["0 * * * *"]}),
]
"""A cron expression kept as written; `parse_cron` turns it into a `CronSchedule`."""
