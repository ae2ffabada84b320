"""Insert a row under a unique key unless it exists, then hold it: a race becomes an upsert.

Two requests that write the same commit, deployment or incident at once both read "not
there" and both insert; one of them then fails on the unique key. Instead, each writer
claims the key with `INSERT ... ON CONFLICT DO NOTHING` (SQLite and PostgreSQL) and then
reads the row, locked (`FOR UPDATE` on PostgreSQL; SQLite holds the database's write lock
from the insert on) until its transaction ends. The loser waits for the winner's commit
and then updates the row the winner wrote, by the same rule as any later version.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from sqlalchemy import inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from code_engine.store.base import Base
from code_engine.store.tables import EnvironmentRow, ServiceRow

R = TypeVar("R", bound=Base)


def claim(
    session: Session, table: type[R], key: dict[str, Any], values: dict[str, Any]
) -> tuple[R, bool]:
    """The row of `table` whose unique `key` is given, created from `values` when missing.

    Returns (row, created); the row is locked for the rest of the transaction.
    """
    session.flush()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(**key, **values)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(*inspect(table).primary_key)
    )
    created = session.execute(statement).first() is not None
    query = (
        select(table).filter_by(**key).with_for_update().execution_options(populate_existing=True)
    )
    return session.scalars(query).one(), created


Outcome = Literal["created", "updated", "unchanged"]
"""What a writer did: inserted the record, replaced it, or kept the stored version."""


def names(session: Session, service_id: int, environment_id: int | None) -> tuple[str, str]:
    """The service's and environment's names (a record's identity as events carry it)."""
    service = session.get(ServiceRow, service_id)
    environment = session.get(EnvironmentRow, environment_id) if environment_id else None
    return (service.name if service else "", environment.name if environment else "")


_DORA_LOCKS = 0x444F5241  # "DORA": the advisory lock space of the DORA writers


def lock_service(session: Session, service_id: int) -> None:
    """Hold the service's DORA write lock until the transaction ends (PostgreSQL).

    A commit and a deployment that delivers it, written at once by two requests, each
    copy the change start from the other's rows: under READ COMMITTED neither sees the
    other's uncommitted rows, and the delivery would keep an unknown start. One lock per
    service makes the writers of a service take turns, as SQLite's single writer does.
    Taken on the connection, not the session, so that no pending change is flushed (and
    no row locked) before it.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, :service)"),
            {"space": _DORA_LOCKS, "service": service_id},
        )
