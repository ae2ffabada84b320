"""Service functions of DR: backup, list, verify, restore; they return data, never print."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from code_engine.clock import Clock, utc_now
from code_engine.dr.config import DrConfig
from code_engine.dr.domain import MANIFEST, Manifest, pick_before, pick_on_date, snapshot_prefix
from code_engine.dr.errors import SnapshotNotFoundError
from code_engine.dr.snapshots import (
    CountingReader,
    Snapshot,
    clean_staging,
    copy_snapshot,
    list_snapshots,
    load_snapshot,
    open_data,
    verify_objects,
    write_snapshot,
)
from code_engine.dr.sources import Source
from code_engine.dr.stores import Store, open_store
from code_engine.errors import CodeError, UserError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from code_engine.store.engine import Database

log = logging.getLogger(__name__)
Step = Callable[[str], None]


@dataclass
class DrContext:
    """Who acts, when, and where evidence goes (no database: nothing recorded).

    `opening` gives the database when it is first needed, for a command that opens it on a
    thread while its data moves (the records and the audit trail are written after).
    """

    config: DrConfig
    db: Database | None = None
    opening: Callable[[], Database] | None = None
    clock: Clock = utc_now
    principal: str = "local"
    trigger: str = "manual"
    on_bytes: Callable[[int], None] | None = None
    on_step: Step = field(default=lambda _message: None)

    def database(self) -> Database | None:
        if self.db is None and self.opening is not None:
            self.db = self.opening()  # raises again at each call while it cannot be opened
            self.opening = None
        return self.db

    @contextmanager
    def session(self) -> Iterator[Session | None]:
        db = self.database()
        if db is None:
            yield None
            return
        with db.session() as session:
            yield session

    def audit(self, action: str, resource: str, outcome: str, detail: dict[str, Any]) -> None:
        from code_engine.audit import trail  # the database layer: see `opening`

        with self.session() as session:
            if session is not None:
                trail.record(
                    session,
                    at=self.clock(),
                    principal=self.principal,
                    action=action,
                    resource=resource,
                    outcome=outcome,
                    detail=detail,
                )


def primary_store(config: DrConfig, override: str | None = None) -> Store:
    return open_store(override or config.store)


def replica_store(config: DrConfig) -> Store | None:
    return open_store(config.replica) if config.replica else None


def backup(ctx: DrContext, source: str | None = None, store: str | None = None) -> list[Manifest]:
    """One snapshot per source, copied and verified on the replica; every attempt recorded."""
    config = ctx.config
    key = config.key()
    primary = primary_store(config, store)
    replica = replica_store(config) if store is None else None
    clean_staging(primary)
    done: list[Manifest] = []
    failure: CodeError | None = None
    for item in config.chosen(source):
        started = ctx.clock()
        ctx.on_step(f"backing up {item.name} ({item.describe()}) to {primary.url}")
        manifest: Manifest | None = None
        error = ""
        try:
            manifest = write_snapshot(
                primary, key, item, clock=ctx.clock, release=config.release, on_bytes=ctx.on_bytes
            )
            if replica is not None:
                ctx.on_step(f"copying {manifest.id} to the replica {replica.url}")
                verify_objects(copy_snapshot(Snapshot(manifest, "", primary), replica), key)
            if item.name in config.pitr:
                from code_engine.dr import pitr

                ctx.on_step(f"pgBackRest: incremental backup of {item.name}")
                pitr.backup(config.pitr[item.name], "incr")  # full when none exists yet
            done.append(manifest)
        except CodeError as exc:
            error, failure = str(exc), failure or exc
        from code_engine.dr import records  # the database layer: DrContext.opening

        with ctx.session() as session:
            if session is not None:
                records.record_backup(
                    session,
                    source=item.name,
                    kind=item.kind,
                    store=primary.url,
                    replica=replica.url if replica else None,
                    started_at=started,
                    finished_at=ctx.clock(),
                    trigger=ctx.trigger,
                    manifest=manifest,
                    error=error,
                )
        ctx.audit(
            "dr.backup",
            item.name,
            "ok" if not error else "failed",
            {"snapshot": manifest.id if manifest else None, "store": primary.url, "error": error},
        )
    if failure is not None:
        raise failure
    return done


@dataclass(frozen=True)
class Listed:
    manifest: Manifest
    stores: tuple[str, ...]
    verified: bool


def list_all(ctx: DrContext) -> tuple[list[Listed], list[str]]:
    """Every snapshot with every store holding it; problems of unreadable manifests."""
    stores = [primary_store(ctx.config)]
    replica = replica_store(ctx.config)
    if replica is not None:
        stores.append(replica)
    where: dict[str, list[str]] = {}
    manifests: dict[str, Manifest] = {}
    problems: list[str] = []
    for store in stores:
        found, trouble = list_snapshots(store)
        problems += trouble
        for snap in found:
            manifests.setdefault(snap.manifest.id, snap.manifest)
            where.setdefault(snap.manifest.id, []).append(store.url)
    verified: set[str] = set()
    from code_engine.dr import records  # the database layer: DrContext.opening

    with ctx.session() as session:
        if session is not None:
            verified = records.verified_ids(session)
    listed = [
        Listed(m, tuple(where[m.id]), m.id in verified)
        for m in sorted(manifests.values(), key=lambda m: m.taken_at)
    ]
    return listed, problems


def find(ctx: DrContext, snapshot_id: str, source: str | None = None) -> Snapshot:
    """A snapshot by id on the primary store, else on the replica."""
    stores = [primary_store(ctx.config)]
    replica = replica_store(ctx.config)
    if replica is not None:
        stores.append(replica)
    for store in stores:
        if source is not None:
            name = snapshot_prefix(source, snapshot_id) + MANIFEST
            if name in store.names(snapshot_prefix(source, snapshot_id)):
                return load_snapshot(store, name)
            continue
        for snap in list_snapshots(store)[0]:
            if snap.manifest.id == snapshot_id:
                return snap
    raise SnapshotNotFoundError(f"no snapshot {snapshot_id} in {', '.join(s.url for s in stores)}")


def choose(
    ctx: DrContext,
    snapshot_id: str | None,
    day: date | None,
    to_time: datetime | None,
    source: str | None,
) -> list[Snapshot]:
    """The snapshots a restore uses: by id, the newest of a day, or the newest before a time."""
    if snapshot_id is not None:
        return [find(ctx, snapshot_id, source)]
    snaps = list_snapshots(primary_store(ctx.config))[0]
    if not snaps and ctx.config.replica:
        snaps = list_snapshots(replica_store(ctx.config))[0]  # type: ignore[arg-type]
    if source is not None:
        snaps = [s for s in snaps if s.manifest.source == source]
    by_id = {s.manifest.id: s for s in snaps}
    manifests = [s.manifest for s in snaps]
    if day is not None:
        return [by_id[m.id] for m in pick_on_date(manifests, day)]
    if to_time is None:
        raise UserError("give --id, --date or --to-time")
    return [by_id[m.id] for m in pick_before(manifests, to_time)]


def verify(
    ctx: DrContext, snapshot_id: str | None = None, restore_test: bool = False
) -> list[dict[str, Any]]:
    """Checksum every object of one snapshot (or all); optionally restore each into scratch."""
    key = ctx.config.key()
    if snapshot_id is not None:
        snaps = [find(ctx, snapshot_id)]
    else:
        snaps = list_snapshots(primary_store(ctx.config))[0]
    results = []
    for snap in snaps:
        m = snap.manifest
        ctx.on_step(f"verifying {m.id} ({m.source})")
        result: dict[str, Any] = {"id": m.id, "source": m.source, **verify_objects(snap, key)}
        if restore_test:
            from code_engine.dr.drill import restore_into_scratch

            report, seconds = restore_into_scratch(ctx, snap, key)
            result["restore_test"] = {"seconds": round(seconds, 3), "checks": report.checks}
        from code_engine.dr import records  # the database layer: DrContext.opening

        with ctx.session() as session:
            if session is not None:
                records.mark_verified(session, m.id, ctx.clock())
        ctx.audit("dr.verify", m.id, "ok", {"source": m.source, "restore_test": restore_test})
        results.append(result)
    return results


def restore(
    ctx: DrContext,
    *,
    snapshot_id: str | None = None,
    day: date | None = None,
    to_time: datetime | None = None,
    source: str | None = None,
    target: str | None = None,
    force: bool = False,
) -> list[dict[str, Any]]:
    """Restore beside the live data, into `target`, or in place (`force`, after a safety copy)."""
    config = ctx.config
    if to_time is not None and source is not None and source in config.pitr:
        return [_restore_pitr(ctx, source, to_time, target)]
    try:
        key = config.key()
        snaps = choose(ctx, snapshot_id, day, to_time, source)
    except CodeError as exc:
        asked = {"id": snapshot_id, "date": str(day) if day else None, "source": source}
        ctx.audit("dr.restore", source or "all", "failed", {**asked, "error": str(exc)})
        raise
    if target is not None and len(snaps) > 1:
        raise UserError("--target needs one source: add --source")
    results = []
    for snap in snaps:
        m = snap.manifest
        item = config.source(m.source)
        if item.kind != m.kind:
            raise UserError(
                f"snapshot {m.id} holds {m.kind} data, source {item.name} is {item.kind}"
            )
        results.append(_restore_one(ctx, snap, item, key, target, force))
    return results


def _restore_pitr(
    ctx: DrContext, source: str, moment: datetime, target: str | None
) -> dict[str, Any]:
    """pgBackRest restore to a time, into a new data directory beside the live one."""
    from code_engine.dr import pitr

    setup = ctx.config.pitr[source]
    stamp = moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    destination = (
        Path(target)
        if target
        else setup.pg_data.with_name(f"{setup.pg_data.name}.restored-{stamp}")
    )
    detail = {"to_time": moment.isoformat(), "target": str(destination), "pitr": True}
    try:
        ctx.on_step(f"pgBackRest: restoring {source} as of {moment.isoformat()} into {destination}")
        pitr.restore_to_time(setup, moment, destination)
    except CodeError as exc:
        ctx.audit("dr.restore", source, "failed", {**detail, "error": str(exc)})
        raise
    ctx.audit("dr.restore", source, "ok", detail)
    return {"id": f"pitr-{stamp}", "source": source, "taken_at": moment.isoformat(),
            "in_place": False, **detail}  # fmt: skip


def _restore_one(
    ctx: DrContext, snap: Snapshot, item: Source, key: Any, target: str | None, force: bool
) -> dict[str, Any]:
    m = snap.manifest
    in_place = force and target is None
    # in place, the copy is restored under a fresh name first, then swapped in
    destination = target or item.beside(f"{m.id}-{os.getpid()}" if in_place else m.id)
    detail: dict[str, Any] = {"snapshot": m.id, "target": destination, "in_place": in_place}
    try:
        safety = None
        if in_place:
            ctx.on_step(f"safety snapshot of the live {item.name} before restoring in place")
            safety = write_snapshot(
                primary_store(ctx.config), key, item, clock=ctx.clock, release=ctx.config.release
            ).id
            detail["safety_snapshot"] = safety
        ctx.on_step(f"restoring {m.id} ({m.source}) into {destination}")
        scratch = ctx.config.scratch
        scratch.mkdir(parents=True, exist_ok=True)
        with open_data(snap, key) as data:
            item.restore(CountingReader(data, ctx.on_bytes), destination, scratch)
        try:
            report = item.check(destination, ctx.config.smoke.get(item.name, ()))
        except CodeError:
            item.discard(destination)  # never leave a copy that failed its checks
            raise
        detail["checks"] = report.checks
        if in_place:
            detail["previous"] = item.replace_live(destination, m.id)
            detail["target"] = item.live()
    except CodeError as exc:
        ctx.audit("dr.restore", m.source, "failed", {**detail, "error": str(exc)})
        raise
    ctx.audit("dr.restore", m.source, "ok", detail)
    return {"id": m.id, "source": m.source, "taken_at": m.taken_at.isoformat(), **detail}
