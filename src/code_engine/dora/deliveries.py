"""What each successful deployment delivered first: the lead times it stores.

A commit counts for lead time once, at the first successful deployment of its service
and environment that delivered it (by finish time, then id). Each successful deployment
keeps, on its own row, the lead time of every commit it delivered first and whose change
start is known (`lead_times`, seconds, packed) and how many it delivered first without a
known start (`lead_unknown`). The DORA read then takes one row per deployment instead of
one per delivered commit, and needs no commit identities to count a commit once.

Whatever changes the answer keeps it current: a deployment recorded or updated (status,
finish, environment, commit list) refreshes itself and every deployment sharing a commit
with it; a commit imported refreshes the deployments that delivered it. Deployments
arrive in any order, so the stored values are the same whatever the arrival order.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from code_engine.store.tables import DeploymentChangeRow, DeploymentRow

SUCCEEDED = "succeeded"
BATCH = 500  # deployments per statement: well below every database's parameter limit


def pack_seconds(seconds: Sequence[float]) -> bytes:
    """Lead times as stored: little-endian IEEE 754 doubles."""
    return struct.pack(f"<{len(seconds)}d", *seconds)


def unpack_seconds(packed: bytes) -> array[float]:
    """Every lead time of one or several concatenated `pack_seconds` values."""
    values = array("d", packed)
    if sys.byteorder == "big":  # pragma: no cover - the format is little-endian
        values.byteswap()
    return values


def _batches(ids: Iterable[int]) -> Iterable[list[int]]:
    it = iter(sorted(set(ids)))
    while batch := list(islice(it, BATCH)):
        yield batch


def sharing_commits(
    session: Session, deployment_ids: Iterable[int], shas: Iterable[str] = ()
) -> set[int]:
    """The deployments that delivered a commit of these deployments (or one of `shas`)."""
    dc, mine = DeploymentChangeRow, aliased(DeploymentChangeRow)
    found: set[int] = set()
    for batch in _batches(deployment_ids):
        theirs = select(mine.sha).where(mine.deployment_id.in_(batch))
        found.update(session.scalars(select(dc.deployment_id).where(dc.sha.in_(theirs))))
    extra = sorted(set(shas))
    for start in range(0, len(extra), BATCH):
        part = extra[start : start + BATCH]
        found.update(session.scalars(select(dc.deployment_id).where(dc.sha.in_(part))))
    return found


def refresh_deliveries(
    session: Session, deployment_ids: Iterable[int], shas: Iterable[str] = ()
) -> None:
    """After these deployments changed (or lost the commits `shas`): refresh them and
    every deployment that shares a commit with them.

    A deployment that neither succeeded now nor did at its last refresh (its `lead_times`
    is NULL then) delivered nothing before and delivers nothing now: it is skipped, so
    the pending and running updates of a rollout or a webhook cost one query.
    """
    session.flush()
    ids = _counting(session, deployment_ids)
    if ids:
        refresh_lead_times(session, ids | sharing_commits(session, ids, shas))


def _counting(session: Session, deployment_ids: Iterable[int]) -> set[int]:
    """Those of these deployments whose deliveries count now or counted until now."""
    d = DeploymentRow
    found: set[int] = set()
    for batch in _batches(deployment_ids):
        counting = or_(d.status == SUCCEEDED, d.lead_times.is_not(None))
        found.update(session.scalars(select(d.id).where(d.id.in_(batch), counting)))
    return found


def _first_deliveries(batch: list[int]) -> Select[Any]:
    """(deployment, change start) of each commit these deployments delivered first."""
    d, dc = DeploymentRow, DeploymentChangeRow
    d2, dc2 = aliased(DeploymentRow), aliased(DeploymentChangeRow)
    earlier = exists().where(
        dc2.sha == dc.sha,
        d2.id == dc2.deployment_id,
        d2.service_id == d.service_id,
        d2.environment_id == d.environment_id,
        d2.status == SUCCEEDED,
        d2.finished_at.is_not(None),
        or_(
            d2.finished_at < d.finished_at,
            and_(d2.finished_at == d.finished_at, d2.id < d.id),
        ),
    )
    return (
        select(d.id, dc.change_started_epoch)
        .join(dc, dc.deployment_id == d.id)
        .where(d.id.in_(batch), d.status == SUCCEEDED, d.finished_at.is_not(None), ~earlier)
    )


def refresh_lead_times(session: Session, deployment_ids: Iterable[int]) -> None:
    """Recompute the stored lead times of these deployments from their commits."""
    session.flush()
    for batch in _batches(deployment_ids):
        rows = session.execute(
            select(DeploymentRow.id, DeploymentRow.status, DeploymentRow.finished_at).where(
                DeploymentRow.id.in_(batch)
            )
        ).all()
        starts: dict[int, list[float | None]] = {}
        for deployment_id, started in session.execute(_first_deliveries(batch)):
            starts.setdefault(deployment_id, []).append(started)
        stored = [
            _stored(i, status, finished_at, starts.get(i, [])) for i, status, finished_at in rows
        ]
        if stored:
            session.execute(update(DeploymentRow), stored)


def _stored(
    deployment_id: int, status: str, finished_at: datetime | None, starts: Sequence[float | None]
) -> dict[str, Any]:
    """The stored lead times and unknown-start count of one deployment, as an update."""
    if status != SUCCEEDED or finished_at is None:
        return {"id": deployment_id, "lead_times": None, "lead_unknown": 0}
    finished = finished_at.timestamp()
    known = [s for s in starts if s is not None]
    # A commit stamped after its own deployment is clock skew, not negative time.
    leads = sorted(d if d > 0.0 else 0.0 for d in (finished - s for s in known))
    return {
        "id": deployment_id,
        "lead_times": pack_seconds(leads),
        "lead_unknown": len(starts) - len(known),
    }
