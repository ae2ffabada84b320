"""`code_dora_*` gauges: every service's production four keys, read from the last refresh.

A `Refresher` recomputes the last 30 days from the store in a worker thread every
`CODE_DORA_METRICS_REFRESH_SECONDS` (at once when the app starts, then that long after
each computation ended); a scrape only reads the last values, so it stays cheap however
many services and deployments there are. Before the first computation ends a scrape has
no `code_dora_*` samples. `code_dora_metrics_refresh_seconds` and
`code_dora_metrics_last_refresh_timestamp_seconds` show how long the last refresh took and
how old the values are. A metric without a sample in the window (no deployment, no
delivered commit, no recovery) is left out rather than exported as 0. docs/metrics.md lists
every gauge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from code_engine.clock import Clock
from code_engine.dora.bands import Band
from code_engine.dora.metrics import FourKeys
from code_engine.dora.report import service_reports
from code_engine.observe.refresher import Refresher, Snapshot
from code_engine.settings import Settings
from code_engine.store.engine import Database

WINDOW = timedelta(days=30)
ENVIRONMENT = "prod"
BAND_VALUES = {Band.LOW: 0, Band.MEDIUM: 1, Band.HIGH: 2, Band.ELITE: 3}
LABELS = ["service", "environment"]

# (name, help, value of a FourKeys)
GAUGES: tuple[tuple[str, str, Callable[[FourKeys], float | None]], ...] = (
    ("code_dora_deployments", "Successful production deployments in the last 30 days.",
     lambda k: float(k.deployment_frequency.sample_size)),
    ("code_dora_deployment_frequency_per_week",
     "Successful production deployments per week over the last 30 days.",
     lambda k: k.deployment_frequency.value),
    ("code_dora_deployment_days_per_week",
     "Median number of days with a successful production deployment per week (30 days).",
     lambda k: k.deployment_frequency.details["deployment_days_per_week"]),
    ("code_dora_lead_time_median_hours",
     "Median lead time for changes in hours (commits delivered in the last 30 days).",
     lambda k: k.lead_time.value),
    ("code_dora_lead_time_p90_hours", "90th percentile lead time for changes in hours (30 days).",
     lambda k: k.lead_time.details["p90_hours"]),
    ("code_dora_change_failure_rate_percent",
     "Failed production deployments in percent of all in the last 30 days.",
     lambda k: k.change_failure_rate.value),
    ("code_dora_time_to_restore_median_hours",
     "Median time to restore in hours (recoveries that ended in the last 30 days).",
     lambda k: k.time_to_restore.value),
)  # fmt: skip


class DoraCollector(Collector):
    """Reads the gauges a `Refresher` last computed: a scrape never computes anything."""

    def __init__(self, refresher: Refresher[Sequence[FourKeys]]) -> None:
        self.refresher = refresher

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without samples: registering must not compute anything."""
        yield from families([])
        yield from refresh_families(None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.refresher.snapshot
        yield from families(snapshot.value if snapshot is not None else [])
        yield from refresh_families(snapshot)


def compute_keys(db: Database, link_window: timedelta) -> Callable[[datetime], list[FourKeys]]:
    """Every service's production four keys over the 30 days before `end`."""

    def compute(end: datetime) -> list[FourKeys]:
        with db.session() as session:
            reports = service_reports(
                session,
                start=end - WINDOW,
                end=end,
                environment=ENVIRONMENT,
                incident_link_window=link_window,
                trend=False,
            )
        return [report.keys for report in reports]

    return compute


def refresh_families(snapshot: Snapshot[Sequence[FourKeys]] | None) -> Iterator[GaugeMetricFamily]:
    """How long the last refresh took and when it was; no sample before the first one."""
    seconds = GaugeMetricFamily(
        "code_dora_metrics_refresh_seconds",
        "Seconds the last computation of the code_dora_* gauges took.",
    )
    last = GaugeMetricFamily(
        "code_dora_metrics_last_refresh_timestamp_seconds",
        "Unix time the code_dora_* gauges were last computed for (their window's end).",
    )
    if snapshot is not None:
        seconds.add_metric([], snapshot.seconds)
        last.add_metric([], snapshot.at.timestamp())
    yield seconds
    yield last


def families(keys: Sequence[FourKeys]) -> Iterator[GaugeMetricFamily]:
    """The gauge families of computed four keys (pure)."""
    for name, help_text, value_of in GAUGES:
        family = GaugeMetricFamily(name, help_text, labels=LABELS)
        for item in keys:
            value = value_of(item)
            if value is not None:
                family.add_metric([item.service, item.environment], value)
        yield family
    band = GaugeMetricFamily(
        "code_dora_band", "DORA band per metric: 0 low, 1 medium, 2 high, 3 elite.",
        labels=[*LABELS, "metric"],
    )  # fmt: skip
    met = GaugeMetricFamily(
        "code_dora_target_met", "1 when the metric meets the seed's target, else 0.",
        labels=[*LABELS, "metric"],
    )  # fmt: skip
    for item in keys:
        for metric in item.metrics:
            labels = [item.service, item.environment, metric.key]
            if metric.band is not None:
                band.add_metric(labels, BAND_VALUES[metric.band])
            if metric.passed is not None:
                met.add_metric(labels, 1.0 if metric.passed else 0.0)
    yield band
    yield met


def register(
    registry: CollectorRegistry, db: Database, clock: Clock, settings: Settings
) -> Refresher[Sequence[FourKeys]] | None:
    """Add the DORA gauges to an app's registry; the caller starts and stops the refresher.

    None when `CODE_DORA_METRICS_REFRESH_SECONDS` is 0: no `code_dora_*` metric then.
    """
    if not settings.dora_metrics_refresh_seconds:
        return None
    refresher: Refresher[Sequence[FourKeys]] = Refresher(
        "code-dora-gauges",
        compute_keys(db, timedelta(hours=settings.dora_incident_link_hours)),
        clock,
        interval=settings.dora_metrics_refresh_seconds,
    )
    registry.register(DoraCollector(refresher))
    return refresher
