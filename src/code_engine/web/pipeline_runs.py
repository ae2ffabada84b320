"""The dashboard's pipeline panel: the last recorded runs of each service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from code_engine.pipeline import store
from code_engine.pipeline.tables import PipelineRunRow


@dataclass(frozen=True)
class RunLine:
    id: int
    commit: str
    status: str
    dirty: bool
    finished_at: datetime
    duration_s: float
    steps: str
    failed: str


def run_line(row: PipelineRunRow) -> RunLine:
    cached = sum(1 for step in row.steps if step.get("cached"))
    failed = [f"gate {g.get('name')}" for g in row.gates if g.get("verdict") != "passed"]
    failed += [f"step {s.get('name')}" for s in row.steps if s.get("status") == "failed"]
    return RunLine(
        id=row.id,
        commit=row.commit[:12],
        status=row.status,
        dirty=row.dirty,
        finished_at=row.finished_at,
        duration_s=row.duration_s,
        steps=f"{len(row.steps)} ({cached} cached)",
        failed=", ".join(failed),
    )


def last_runs(session: Session, per_service: int = 5) -> dict[str, list[RunLine]]:
    """Each service's newest runs, by service name."""
    return {
        name: [run_line(row) for row in rows]
        for name, rows in store.latest_runs(session, per_service).items()
    }
