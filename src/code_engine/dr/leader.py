"""One worker runs the DR schedules: leadership by the database every worker shares.

PostgreSQL: a session advisory lock on a connection the leader keeps open; it goes with the
connection, so a killed leader frees it at once. SQLite: a lease row in `locks` that the
leader renews while it runs (a long backup included); another worker takes it over when it
expires, or at once when its owner is a process of this host that no longer runs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import zlib
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from code_engine.clock import Clock, utc_now
from code_engine.store.engine import Database
from code_engine.store.tables import LockRow

log = logging.getLogger(__name__)
LEASE = "dr.schedule"
LEASE_TTL = timedelta(seconds=60)
ADVISORY_KEY = zlib.crc32(b"code.dr.schedule")  # one fixed 32-bit key for every worker


class Leadership(Protocol):
    def lead(self) -> bool:
        """Whether this worker leads now (taken, kept or renewed)."""

    def release(self) -> None:
        """Give leadership up (a clean stop)."""


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(owner: str) -> bool:
    """A process of this host that no longer runs (a killed worker's lease)."""
    host, _, pid = owner.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class AdvisoryLeadership:
    """`pg_try_advisory_lock` held on a connection of its own for as long as this leads."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Any = None

    def lead(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()  # never left idle in a transaction between ticks
                return True
            except Exception:  # noqa: BLE001 - the connection (and the lock with it) is gone
                self._drop()
        conn = self.db.engine.connect()
        try:
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            won = bool(taken.scalar())
            conn.commit()
        except Exception:
            conn.close()
            raise
        if won:
            self._conn = conn
        else:
            conn.close()
        return won

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to the pool holding the lock
            finally:
                conn.close()

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            finally:
                self._drop()


class LeaseLeadership:
    """A `locks` row renewed by a thread while this worker leads."""

    def __init__(self, db: Database, clock: Clock = utc_now, ttl: timedelta = LEASE_TTL) -> None:
        self.db, self.clock, self.ttl = db, clock, ttl
        self.owner = owner_id()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _acquire(self) -> bool:
        now = self.clock()
        expires = now + self.ttl
        mine = or_(LockRow.owner == self.owner, LockRow.expires_at < now)
        with self.db.session() as session:
            renewed = session.execute(
                update(LockRow)
                .where(LockRow.name == LEASE, mine)
                .values(owner=self.owner, expires_at=expires)
                .execution_options(synchronize_session=False)
            )
            if renewed.rowcount:  # type: ignore[attr-defined]
                return True
            holder = session.scalars(select(LockRow.owner).where(LockRow.name == LEASE)).first()
            if holder is None:
                try:
                    with session.begin_nested():
                        session.add(LockRow(name=LEASE, owner=self.owner, expires_at=expires))
                except IntegrityError:
                    return False  # another worker inserted it first
                return True
            if not _owner_gone(holder):
                return False
            taken = session.execute(
                update(LockRow)
                .where(LockRow.name == LEASE, LockRow.owner == holder)
                .values(owner=self.owner, expires_at=expires)
                .execution_options(synchronize_session=False)
            )
            return bool(taken.rowcount)  # type: ignore[attr-defined]

    def lead(self) -> bool:
        won = self._acquire()
        if won and self._renewer is None:
            self._stop.clear()
            self._renewer = threading.Thread(target=self._renew, name="code-dr-lease", daemon=True)
            self._renewer.start()
        return won

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                if not self._acquire():
                    return
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.warning("DR schedule lease not renewed; retrying", exc_info=True)

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        with self.db.session() as session:
            session.execute(
                delete(LockRow).where(LockRow.name == LEASE, LockRow.owner == self.owner)
            )


def leadership_for(db: Database, clock: Clock = utc_now) -> Leadership:
    if db.engine.dialect.name == "postgresql":
        return AdvisoryLeadership(db)
    return LeaseLeadership(db, clock)
