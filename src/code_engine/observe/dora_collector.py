"""`code_dora_*` gauges: every service's production four keys, computed when scraped.

A custom collector on the app's registry: each scrape reads the last 30 days from the
store (cached for `CODE_METRICS_CACHE_SECONDS`, so frequent scrapes and several
Prometheus servers cost one computation). A metric without a sample in the window (no
deployment, no delivered commit, no recovery) is left out rather than exported as 0.
docs/metrics.md lists every gauge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from code_engine.clock import Clock
from code_engine.dora.bands import Band
from code_engine.dora.metrics import FourKeys
from code_engine.dora.report import service_reports
from code_engine.observe.logging import get_logger
from code_engine.settings import Settings
from code_engine.store.engine import Database

WINDOW = timedelta(days=30)
ENVIRONMENT = "prod"
BAND_VALUES = {Band.LOW: 0, Band.MEDIUM: 1, Band.HIGH: 2, Band.ELITE: 3}
LABELS = ["service", "environment"]
log = get_logger("code_engine.dora")

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
    """Computes the gauges from the store on scrape; keeps them `cache_seconds`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        cache_seconds: float = 30.0,
        link_window: timedelta = timedelta(hours=24),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.link_window = link_window
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: tuple[float, list[FourKeys]] | None = None

    def _keys(self) -> list[FourKeys]:
        with self._lock:
            now = self.monotonic()
            if self._cached is not None and now - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            end = self.clock()
            with self.db.session() as session:
                reports = service_reports(
                    session,
                    start=end - WINDOW,
                    end=end,
                    environment=ENVIRONMENT,
                    incident_link_window=self.link_window,
                    trend=False,
                )
            keys = [report.keys for report in reports]
            self._cached = (now, keys)
            return keys

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without samples: registering must not compute anything."""
        yield from families([])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            keys = self._keys()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail for the API's metrics
            log.warning("dora gauges unavailable", error=repr(exc))
            keys = []
        yield from families(keys)


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


def register(registry: CollectorRegistry, db: Database, clock: Clock, settings: Settings) -> None:
    """Add the DORA collector to an app's registry, configured from settings."""
    registry.register(
        DoraCollector(
            db,
            clock,
            cache_seconds=settings.metrics_cache_seconds,
            link_window=timedelta(hours=settings.dora_incident_link_hours),
        )
    )
