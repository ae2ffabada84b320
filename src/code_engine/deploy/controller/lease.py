"""Leases in the database: one controller acts on an environment at a time.

A lease is a `locks` row (name, owner, expires_at). The holder renews it while it works;
another controller takes it over once it expired, or at once when the owner is a process
of this host that no longer runs (so a controller restarted after SIGKILL does not wait).
Every write of the controller checks the lease in its own transaction (fencing).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from code_engine.deploy.local.proc import is_same_process, start_ticks
from code_engine.store.tables import LockRow


def owner_id() -> str:
    """`host:pid:start-ticks`: names this process unambiguously, even after pid reuse."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{start_ticks(pid) or 0}"


def owner_gone(owner: str) -> bool:
    """True when `owner` is a process of this host that is not running any more."""
    host, _, rest = owner.partition(":")
    pid_text, _, ticks_text = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or not ticks_text.isdigit():
        return False
    ticks = int(ticks_text) or None
    return not is_same_process(int(pid_text), ticks)


def acquire(session: Session, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` until `now + ttl`; False while another holds it."""
    expires = now + ttl
    renewed = session.execute(
        update(LockRow)
        .where(LockRow.name == name, or_(LockRow.owner == owner, LockRow.expires_at < now))
        .values(owner=owner, expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    holder = session.scalars(select(LockRow.owner).where(LockRow.name == name)).first()
    if holder is None:
        try:
            with session.begin_nested():
                session.add(LockRow(name=name, owner=owner, expires_at=expires))
        except IntegrityError:
            return False  # someone inserted it first
        return True
    if owner_gone(holder):
        taken = session.execute(
            update(LockRow)
            .where(LockRow.name == name, LockRow.owner == holder)
            .values(owner=owner, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]
    return False


def holds(session: Session, name: str, owner: str, now: datetime) -> bool:
    """Whether `owner` holds the lease now (checked inside a writing transaction)."""
    query = select(LockRow).where(LockRow.name == name, LockRow.owner == owner)
    row = session.scalars(query.with_for_update()).first()
    return row is not None and row.expires_at > now


def release(session: Session, name: str, owner: str) -> None:
    """Give the lease up (on a clean shutdown)."""
    session.execute(delete(LockRow).where(LockRow.name == name, LockRow.owner == owner))
