"""Durations written the way operators write them: `500ms`, `30s`, `5m`, `1h30m`, `1d`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d))+$"
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_UNITS = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
}
_HINT = "use whole numbers with a unit (ms, s, m, h, d), e.g. '30s', '5m' or '1h30m'"


def parse_duration(text: str) -> timedelta:
    """Parse `30s`, `1h30m`, `500ms` into a timedelta; raise ValueError on anything else."""
    compact = text.strip()
    if not re.fullmatch(DURATION_PATTERN, compact):
        raise ValueError(f"invalid duration {text!r}: {_HINT}")
    return sum((int(amount) * _UNITS[unit] for amount, unit in _PART.findall(compact)), timedelta())


def format_duration(value: timedelta) -> str:
    """The shortest spelling of a duration that `parse_duration` reads back, e.g. `1h30m`."""
    if value < timedelta():
        raise ValueError(f"negative duration {value}")
    remaining = value // timedelta(milliseconds=1)
    parts = []
    for unit, size in _UNITS.items():
        count, remaining = divmod(remaining, size // timedelta(milliseconds=1))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _validate(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise PydanticCustomError(
            "duration_type", "expected a duration string, got {got}: " + _HINT, {"got": repr(value)}
        )
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError("duration_parsing", str(exc)) from None


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta():
        raise PydanticCustomError("duration_too_short", "duration must be longer than 0s")
    return value


_SCHEMA = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "examples": ["500ms", "30s", "5m", "1h30m", "1d"],
}

Duration = Annotated[
    timedelta,
    BeforeValidator(_validate),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(_SCHEMA),
]
"""A `timedelta` read from and written as a duration string."""

PositiveDuration = Annotated[
    timedelta,
    BeforeValidator(_validate),
    AfterValidator(_positive),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({**_SCHEMA, "not": {"pattern": "^(0+(ms|s|m|h|d))+$"}}),
]
"""A `Duration` longer than zero."""
