from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from code_engine.spec.duration import Duration, PositiveDuration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1m500ms", timedelta(seconds=60.5)),
        (" 2h ", timedelta(hours=2)),
        ("0s", timedelta()),
    ],
)
def test_parse_duration_reads_units_and_combinations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "1.5h", "-5s", "5 s", "1w", "abc", "s", "30sec"])
def test_parse_duration_rejects_junk_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .*e\.g\. '30s'"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(), "0s"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=2, seconds=1), "2d1s"),
    ],
)
def test_format_duration_is_shortest_spelling(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))


@given(st.integers(min_value=0, max_value=10**12))
def test_format_then_parse_round_trips(milliseconds: int) -> None:
    value = timedelta(milliseconds=milliseconds)
    assert parse_duration(format_duration(value)) == value


def test_duration_type_validates_and_serializes() -> None:
    adapter: TypeAdapter[timedelta] = TypeAdapter(Duration)
    assert adapter.validate_python("1h30m") == timedelta(minutes=90)
    assert adapter.validate_python(timedelta(seconds=3)) == timedelta(seconds=3)
    assert adapter.dump_python(timedelta(minutes=90), mode="json") == "1h30m"


@pytest.mark.parametrize(("value", "message"), [(30, "got 30"), (True, "got True")])
def test_duration_type_rejects_numbers(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(Duration).validate_python(value)


def test_positive_duration_rejects_zero() -> None:
    with pytest.raises(ValidationError, match="longer than 0s"):
        TypeAdapter(PositiveDuration).validate_python("0s")
