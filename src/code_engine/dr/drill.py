"""Drills: restore the newest snapshot of each source into scratch, check it, time it, record it.

RTO achieved is the wall time from the start of the restore until the restored copy answers
its checks; RPO achieved is the age of the newest restorable point when the drill starts.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from code_engine.dr.domain import newest
from code_engine.dr.errors import SnapshotNotFoundError
from code_engine.dr.keys import BackupKey
from code_engine.dr.service import DrContext, primary_store
from code_engine.dr.snapshots import Snapshot, list_snapshots, open_data
from code_engine.dr.sources import CheckReport, Source
from code_engine.errors import CheckFailedError, CodeError

log = logging.getLogger(__name__)


def _scratch_target(ctx: DrContext, item: Source, snap: Snapshot) -> str:
    suffix = f"drill-{secrets.token_hex(3)}"
    ctx.config.scratch.mkdir(parents=True, exist_ok=True)
    if item.kind == "postgres":
        return item.beside(snap.manifest.id).replace("_restored_", "_drill_")
    return str(ctx.config.scratch / f"{item.name}-{snap.manifest.id}-{suffix}")


def restore_into_scratch(
    ctx: DrContext, snap: Snapshot, key: BackupKey
) -> tuple[CheckReport, float]:
    """Restore into a scratch target, run the checks, remove it; returns checks and seconds."""
    item = ctx.config.source(snap.manifest.source)
    target = _scratch_target(ctx, item, snap)
    started = time.monotonic()
    try:
        with open_data(snap, key) as data:
            item.restore(data, target, ctx.config.scratch)
        report = item.check(target, ctx.config.smoke.get(item.name, ()))
        return report, time.monotonic() - started
    finally:
        try:
            item.discard(target)
        except Exception:  # noqa: BLE001 - cleanup must not hide the drill's result
            log.warning("could not remove the scratch copy %s", target, exc_info=True)


@dataclass(frozen=True)
class DrillResult:
    started_at: datetime
    finished_at: datetime
    passed: bool
    rto_seconds: float | None
    rpo_seconds: float | None
    rto_objective_seconds: float
    rpo_objective_seconds: float
    sources: dict[str, Any]
    error: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "status": "passed" if self.passed else "failed",
            "rto_seconds": self.rto_seconds,
            "rpo_seconds": self.rpo_seconds,
            "rto_objective_seconds": self.rto_objective_seconds,
            "rpo_objective_seconds": self.rpo_objective_seconds,
            "sources": self.sources,
            "error": self.error,
        }


def drill(ctx: DrContext) -> DrillResult:
    """Run a drill over every source and record it; failing objectives make it fail."""
    config = ctx.config
    started_at = ctx.clock()
    begun = time.monotonic()
    rto_goal = config.objectives.rto.total_seconds()
    rpo_goal = config.objectives.rpo.total_seconds()
    per_source: dict[str, Any] = {}
    errors: list[str] = []
    rpo_worst: float | None = None
    key: BackupKey | None = None
    snaps: list[Snapshot] = []
    try:
        key = config.key()
        snaps = list_snapshots(primary_store(config))[0]
    except CodeError as exc:
        errors.append(str(exc))
    for item in config.sources:
        if key is None:
            break
        chosen = newest([s.manifest for s in snaps], item.name)
        if chosen is None:
            errors.append(f"{item.name}: no snapshot to restore")
            per_source[item.name] = {"status": "failed", "error": "no snapshot"}
            continue
        age = (started_at - chosen.taken_at).total_seconds()
        rpo_worst = age if rpo_worst is None else max(rpo_worst, age)
        ctx.on_step(f"drill: restoring {chosen.id} ({item.name}) into scratch")
        snap = next(s for s in snaps if s.manifest.id == chosen.id)
        try:
            report, seconds = restore_into_scratch(ctx, snap, key)
            per_source[item.name] = {
                "status": "passed",
                "snapshot": chosen.id,
                "restore_seconds": round(seconds, 3),
                "rpo_seconds": round(age, 3),
                "checks": report.checks,
            }
        except CodeError as exc:
            errors.append(f"{item.name}: {exc}")
            per_source[item.name] = {"status": "failed", "snapshot": chosen.id, "error": str(exc)}
    rto = round(time.monotonic() - begun, 3) if not errors else None
    if rto is not None and rto > rto_goal:
        errors.append(f"RTO {rto:.0f}s exceeds the objective of {rto_goal:.0f}s")
    if rpo_worst is not None and rpo_worst > rpo_goal:
        errors.append(f"RPO {rpo_worst:.0f}s exceeds the objective of {rpo_goal:.0f}s")
    result = DrillResult(
        started_at=started_at,
        finished_at=ctx.clock(),
        passed=not errors,
        rto_seconds=rto,
        rpo_seconds=None if rpo_worst is None else round(rpo_worst, 3),
        rto_objective_seconds=rto_goal,
        rpo_objective_seconds=rpo_goal,
        sources=per_source,
        error="; ".join(errors),
    )
    from code_engine.dr import records  # the database layer: DrContext.opening

    with ctx.session() as session:
        if session is not None:
            records.record_drill(
                session,
                started_at=result.started_at,
                finished_at=result.finished_at,
                passed=result.passed,
                trigger=ctx.trigger,
                rto_seconds=result.rto_seconds,
                rpo_seconds=result.rpo_seconds,
                rto_objective=rto_goal,
                rpo_objective=rpo_goal,
                sources=per_source,
                error=result.error,
            )
    ctx.audit("dr.drill", "all", "ok" if result.passed else "failed", result.as_dict())
    return result


def require_passed(result: DrillResult) -> None:
    if not result.passed:
        raise CheckFailedError(f"drill failed: {result.error}")


__all__ = [
    "DrillResult",
    "SnapshotNotFoundError",
    "drill",
    "require_passed",
    "restore_into_scratch",
]
