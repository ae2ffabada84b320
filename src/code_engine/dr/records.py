"""The evidence: one writer per record (backups, drills), and the reads the API serves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from code_engine.dr.domain import Manifest
from code_engine.dr.tables import BackupRow, DrillRow
from code_engine.store.pagination import Page, paginate


def record_backup(
    session: Session,
    *,
    source: str,
    kind: str,
    store: str,
    started_at: datetime,
    finished_at: datetime,
    trigger: str,
    manifest: Manifest | None = None,
    replica: str | None = None,
    error: str = "",
) -> BackupRow:
    row = BackupRow(
        snapshot_id=manifest.id if manifest else "",
        source=source,
        kind=kind,
        store=store,
        replica=replica,
        status="succeeded" if manifest and not error else "failed",
        trigger=trigger,
        started_at=started_at,
        finished_at=finished_at,
        taken_at=manifest.taken_at if manifest else None,
        duration_seconds=(finished_at - started_at).total_seconds(),
        raw_bytes=manifest.raw_bytes if manifest else 0,
        stored_bytes=manifest.stored_bytes if manifest else 0,
        error=error[:2000],
    )
    session.add(row)
    session.flush()
    return row


def mark_verified(session: Session, snapshot_id: str, at: datetime) -> None:
    session.execute(
        update(BackupRow).where(BackupRow.snapshot_id == snapshot_id).values(verified_at=at)
    )


def verified_ids(session: Session) -> set[str]:
    rows = session.scalars(select(BackupRow.snapshot_id).where(BackupRow.verified_at.is_not(None)))
    return set(rows)


def record_drill(
    session: Session,
    *,
    started_at: datetime,
    finished_at: datetime,
    passed: bool,
    trigger: str,
    rto_seconds: float | None,
    rpo_seconds: float | None,
    rto_objective: float,
    rpo_objective: float,
    sources: dict[str, Any],
    error: str = "",
) -> DrillRow:
    row = DrillRow(
        started_at=started_at,
        finished_at=finished_at,
        status="passed" if passed else "failed",
        trigger=trigger,
        rto_seconds=rto_seconds,
        rpo_seconds=rpo_seconds,
        rto_objective_seconds=rto_objective,
        rpo_objective_seconds=rpo_objective,
        sources=sources,
        error=error[:2000],
    )
    session.add(row)
    session.flush()
    return row


def list_backups(
    session: Session, limit: int, cursor: str | None, source: str | None = None
) -> Page[BackupRow]:
    query = select(BackupRow)
    if source:
        query = query.where(BackupRow.source == source)
    return paginate(session, query, BackupRow.id, limit, cursor)


def list_drills(session: Session, limit: int, cursor: str | None) -> Page[DrillRow]:
    return paginate(session, select(DrillRow), DrillRow.id, limit, cursor)


def last_success(session: Session) -> dict[str, datetime]:
    """Per source, when its newest successful backup was taken."""
    rows = session.execute(
        select(BackupRow.source, func.max(BackupRow.taken_at))
        .where(BackupRow.status == "succeeded")
        .group_by(BackupRow.source)
    )
    return {source: at for source, at in rows if at is not None}


def last_drill(session: Session, status: str | None = None) -> DrillRow | None:
    query = select(DrillRow).order_by(DrillRow.started_at.desc(), DrillRow.id.desc()).limit(1)
    if status:
        query = query.where(DrillRow.status == status)
    return session.scalars(query).first()


def passed_drill_times(session: Session, now: datetime) -> Sequence[datetime]:
    """Completion times of passed drills, never ones claimed for the future."""
    rows = session.scalars(
        select(DrillRow.finished_at).where(DrillRow.status == "passed", DrillRow.finished_at <= now)
    )
    return list(rows)


def last_backup_start(session: Session) -> datetime | None:
    return session.scalar(select(func.max(BackupRow.started_at)))
