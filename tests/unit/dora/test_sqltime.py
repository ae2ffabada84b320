"""`epoch` gives the POSIX seconds Python gives, to the microsecond, on SQLite."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, literal, select

from code_engine.store.base import UTCDateTime
from code_engine.store.sqltime import epoch


@pytest.mark.parametrize("micro", [0, 1, 499_999, 999_499, 999_500, 999_700, 999_999])
def test_fractions_near_the_next_second_stay_in_their_second(micro: int) -> None:
    at = datetime(2025, 11, 3, 12, 34, 56, micro, tzinfo=timezone.utc)
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        value = conn.execute(select(epoch(literal(at, UTCDateTime())))).scalar_one()
    assert value == at.timestamp()
