"""What the records prove: per source, the newest restorable point and whether it breaches the
RPO; the last drill against the objectives. Read by the API, the metrics and the dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.dr import records
from code_engine.dr.domain import Objectives, rpo_breached
from code_engine.dr.tables import BackupRow


@dataclass(frozen=True)
class SourceEvidence:
    source: str
    newest_at: datetime | None
    age_seconds: float | None
    rpo_breached: bool
    last_duration_seconds: float | None
    last_stored_bytes: int | None


@dataclass(frozen=True)
class Evidence:
    objectives: Objectives
    sources: tuple[SourceEvidence, ...]
    last_drill: dict[str, Any] | None

    @property
    def rpo_breached(self) -> bool:
        return any(s.rpo_breached for s in self.sources)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rpo_objective_seconds": self.objectives.rpo.total_seconds(),
            "rto_objective_seconds": self.objectives.rto.total_seconds(),
            "rpo_breached": self.rpo_breached,
            "sources": [
                {
                    "source": s.source,
                    "newest_at": s.newest_at.isoformat() if s.newest_at else None,
                    "age_seconds": s.age_seconds,
                    "rpo_breached": s.rpo_breached,
                    "last_duration_seconds": s.last_duration_seconds,
                    "last_stored_bytes": s.last_stored_bytes,
                }
                for s in self.sources
            ],
            "last_drill": self.last_drill,
        }


def _last_rows(session: Session) -> dict[str, BackupRow]:
    rows = session.scalars(
        select(BackupRow).where(BackupRow.status == "succeeded").order_by(BackupRow.id)
    )
    return {row.source: row for row in rows}


def gather(
    session: Session, objectives: Objectives, sources: Iterable[str], now: datetime
) -> Evidence:
    """The evidence at `now`; a configured source never backed up breaches the RPO."""
    last = _last_rows(session)
    names = sorted(set(sources) | set(last))
    found = []
    for name in names:
        row = last.get(name)
        newest = row.taken_at if row else None
        found.append(
            SourceEvidence(
                source=name,
                newest_at=newest,
                age_seconds=None if newest is None else (now - newest).total_seconds(),
                rpo_breached=rpo_breached(newest, now, objectives.rpo),
                last_duration_seconds=row.duration_seconds if row else None,
                last_stored_bytes=row.stored_bytes if row else None,
            )
        )
    drill = records.last_drill(session)
    last_drill = None
    if drill is not None:
        last_drill = {
            "started_at": drill.started_at.isoformat(),
            "finished_at": drill.finished_at.isoformat(),
            "status": drill.status,
            "rto_seconds": drill.rto_seconds,
            "rpo_seconds": drill.rpo_seconds,
            "rto_objective_seconds": drill.rto_objective_seconds,
            "rpo_objective_seconds": drill.rpo_objective_seconds,
        }
    return Evidence(objectives, tuple(found), last_drill)
