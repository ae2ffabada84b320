"""Leases in the database: one controller per environment, renewal, expiry, dead owners."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from code_engine.clock import Clock
from code_engine.deploy.controller import lease
from code_engine.store.engine import Database

TTL = timedelta(seconds=15)


def acquire(database: Database, owner: str, now: datetime) -> bool:
    with database.session() as session:
        return lease.acquire(session, "deploy:shop/prod", owner, now, TTL)


def test_one_holder_renewal_and_expiry(database: Database, clock: Clock) -> None:
    now = clock()
    assert acquire(database, "remote:1:1", now)
    assert not acquire(database, "remote:2:2", now)
    assert acquire(database, "remote:1:1", now + timedelta(seconds=10))  # renewal
    assert not acquire(database, "remote:2:2", now + timedelta(seconds=20))
    later = now + timedelta(seconds=26)
    assert acquire(database, "remote:2:2", later)  # the first one stopped renewing
    with database.session() as session:
        assert lease.holds(session, "deploy:shop/prod", "remote:2:2", later)
        assert not lease.holds(session, "deploy:shop/prod", "remote:1:1", later)
        lease.release(session, "deploy:shop/prod", "remote:2:2")
    assert acquire(database, "remote:1:1", later)


def test_a_dead_process_of_this_host_loses_its_lease_at_once(
    database: Database, clock: Clock
) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = lease.owner_id().split(":")[0]
    dead = f"{host}:{child.pid}:1"
    assert lease.owner_gone(dead)
    assert not lease.owner_gone(lease.owner_id())
    assert not lease.owner_gone("elsewhere:1:1")
    assert acquire(database, dead, clock())
    assert acquire(database, lease.owner_id(), clock())


@pytest.mark.parametrize("owner", ["no-colons", "host:pid:ticks"])
def test_unparsable_owners_are_never_taken_for_dead(owner: str) -> None:
    assert not lease.owner_gone(owner)
