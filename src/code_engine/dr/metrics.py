"""`code_backup_*` and `code_dr_*` gauges from the recorded evidence.

A `Refresher` reads the evidence in a worker thread every `REFRESH_SECONDS` (at once when the
app starts); a scrape only reads the last values and never touches the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from code_engine.clock import Clock
from code_engine.dr.domain import Objectives
from code_engine.dr.evidence import Evidence, gather
from code_engine.errors import CodeError
from code_engine.observe.refresher import Refresher
from code_engine.settings import Settings
from code_engine.store.engine import Database

REFRESH_SECONDS = 30.0


class DrCollector(Collector):
    """Reads the evidence a `Refresher` last gathered: a scrape never queries anything."""

    def __init__(self, refresher: Refresher[Evidence], objectives: Objectives) -> None:
        self.refresher, self.objectives = refresher, objectives

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Registering must not gather anything."""
        return iter(())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.refresher.snapshot
        if snapshot is None:
            return
        evidence = snapshot.value
        last = GaugeMetricFamily(
            "code_backup_last_success_timestamp_seconds",
            "When the newest successful backup of each source was taken (Unix time).",
            labels=["source"],
        )
        duration = GaugeMetricFamily(
            "code_backup_last_duration_seconds",
            "How long the newest successful backup of each source took.",
            labels=["source"],
        )
        size = GaugeMetricFamily(
            "code_backup_last_bytes",
            "Bytes stored (compressed, encrypted) by the newest successful backup of each source.",
            labels=["source"],
        )
        breach = GaugeMetricFamily(
            "code_dr_rpo_breach",
            "1 when no restorable point of the source is younger than the RPO.",
            labels=["source"],
        )
        for s in evidence.sources:
            if s.newest_at is not None:
                last.add_metric([s.source], _ts(s.newest_at))
                duration.add_metric([s.source], s.last_duration_seconds or 0.0)
                size.add_metric([s.source], float(s.last_stored_bytes or 0))
            breach.add_metric([s.source], 1.0 if s.rpo_breached else 0.0)
        yield from (last, duration, size, breach)
        yield GaugeMetricFamily(
            "code_dr_rpo_objective_seconds", "The RPO backups must meet.",
            value=self.objectives.rpo.total_seconds(),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "code_dr_rto_objective_seconds", "The RTO drills must meet.",
            value=self.objectives.rto.total_seconds(),
        )  # fmt: skip
        drill = evidence.last_drill
        if drill is not None:
            if drill["rto_seconds"] is not None:
                yield GaugeMetricFamily(
                    "code_dr_drill_rto_seconds", "RTO achieved by the last restore drill.",
                    value=drill["rto_seconds"],
                )  # fmt: skip
            yield GaugeMetricFamily(
                "code_dr_drill_last_timestamp_seconds", "When the last restore drill finished.",
                value=_ts(datetime.fromisoformat(drill["finished_at"])),
            )  # fmt: skip
            yield GaugeMetricFamily(
                "code_dr_drill_passed", "1 when the last restore drill passed.",
                value=1.0 if drill["status"] == "passed" else 0.0,
            )  # fmt: skip


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def register(
    registry: CollectorRegistry,
    db: Database,
    clock: Clock,
    objectives: Objectives,
    sources: tuple[str, ...],
) -> Refresher[Evidence]:
    """Add the gauges to `registry`; the caller starts and stops the returned refresher."""

    def compute(now: datetime) -> Evidence:
        with db.session() as session:
            return gather(session, objectives, sources, now)

    refresher: Refresher[Evidence] = Refresher(
        "code-dr-gauges", compute, clock, interval=REFRESH_SECONDS
    )
    registry.register(DrCollector(refresher, objectives))
    return refresher


def register_from_settings(
    registry: CollectorRegistry, db: Database, clock: Clock, settings: Settings
) -> Refresher[Evidence]:
    """Objectives and sources from the DR configuration; defaults when it cannot be read."""
    from code_engine.dr.config import DATA_SOURCE, DATABASE_SOURCE, load_config

    try:
        config = load_config(settings)
        objectives, sources = config.objectives, tuple(s.name for s in config.sources)
    except CodeError:
        objectives = Objectives(rpo=timedelta(hours=1), rto=timedelta(hours=4))
        sources = (DATABASE_SOURCE, DATA_SOURCE)
    return register(registry, db, clock, objectives, sources)
