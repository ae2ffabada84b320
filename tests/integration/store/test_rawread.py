"""`RawRead`: one compiled SELECT, run with different values on the driver's cursor."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, insert, select

from code_engine.store.base import UTCDateTime
from code_engine.store.engine import Database
from code_engine.store.rawread import RawRead, results
from code_engine.store.tables import ServiceRow

T0 = datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=timezone.utc)


def test_the_same_statement_answers_each_set_of_values(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            insert(ServiceRow.__table__),
            [{"name": f"s{n}", "created_at": T0 + timedelta(hours=n)} for n in range(5)],
        )
    s = ServiceRow
    statement = (
        select(s.name, s.id)
        .where(s.created_at >= bindparam("since", type_=UTCDateTime()), s.name != "s4")
        .order_by(s.name)
    )
    with database.engine.connect() as conn:
        read = RawRead(conn, statement)
        # the timestamp goes through the column type's own processing (text on SQLite)
        names = [row[0] for row in read.rows({"since": T0 + timedelta(hours=2)})]
        assert names == ["s2", "s3"]
        assert [row[0] for row in read.rows({"since": T0})] == ["s0", "s1", "s2", "s3"]
        assert read.rows({"since": T0 + timedelta(days=1)}) == []
        # the driver's own tuples
        assert isinstance(read.rows({"since": T0})[0], tuple)


def test_results_come_in_the_order_of_the_jobs(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            insert(ServiceRow.__table__),
            [{"name": f"s{n}", "created_at": T0 + timedelta(hours=n)} for n in range(3)],
        )
    s = ServiceRow
    by_name = select(s.id).where(s.name == bindparam("name"))
    with database.engine.connect() as conn:
        read = RawRead(conn, by_name)
        jobs = [(read, {"name": name}) for name in ("s2", "s0", "nobody", "s1")]
        found = [[row[0] for row in rows] for rows in results(conn, jobs)]
        ids = dict(conn.execute(select(s.name, s.id)).all())
    assert found == [[ids["s2"]], [ids["s0"]], [], [ids["s1"]]]
