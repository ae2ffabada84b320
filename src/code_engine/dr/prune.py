"""Pruning: apply the retention plan to the primary store; a dry run unless told otherwise."""

from __future__ import annotations

from code_engine.dr.retention import PruneDecision, plan_prune
from code_engine.dr.service import DrContext, primary_store
from code_engine.dr.snapshots import delete_snapshot, list_snapshots


def prune(ctx: DrContext, apply: bool = False) -> list[PruneDecision]:
    """What retention keeps and removes; removes only with `apply`."""
    store = primary_store(ctx.config)
    snaps = list_snapshots(store)[0]
    verified: set[str] = set()
    from code_engine.dr import records  # the database layer: DrContext.opening

    with ctx.session() as session:
        if session is not None:
            verified = records.verified_ids(session)
    plan = plan_prune([s.manifest for s in snaps], verified, ctx.config.retention, ctx.clock())
    if apply:
        by_id = {s.manifest.id: s for s in snaps}
        removed = [d.manifest.id for d in plan if not d.keep]
        for snapshot_id in removed:
            delete_snapshot(by_id[snapshot_id])
        ctx.audit("dr.prune", store.url, "ok", {"removed": removed})
    return plan
