"""Operational metrics (uptime, p95 latency, error rate) against the service's SLOs.

Two sources, one small protocol: a Prometheus server (the PromQL of `observe.promql` over a
window, the production path) or the traffic router of the environment (its live counters
since they were last reset; it keeps no history, so no uptime and no window). The router's
counters come through `RouterStatistics`, which the interfaces wire to the delivery's
routers: this capability knows nothing of how a router is reached. The SLOs come from the
service's `code.yaml` when its repository is a local path, else the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy.orm import Session

from code_engine.catalog.store import require_environment, require_service
from code_engine.errors import CodeError
from code_engine.observe.logging import get_logger
from code_engine.observe.promql import SLO_QUERIES, PrometheusClient, render
from code_engine.settings import Settings
from code_engine.spec.loader import load_spec
from code_engine.spec.quality import Slos

log = get_logger("code_engine.dora")


@dataclass(frozen=True)
class Measured:
    """What a source observed; None where it cannot tell."""

    uptime_percent: float | None = None
    p95_ms: float | None = None
    error_rate_percent: float | None = None


@dataclass(frozen=True)
class Objective:
    key: str
    title: str
    value: float | None
    unit: str
    target: str
    passed: bool | None


@dataclass(frozen=True)
class OperationsReport:
    service: str
    environment: str
    source: str
    start: datetime
    end: datetime
    objectives: list[Objective]
    note: str = ""


@dataclass(frozen=True)
class TrafficCounters:
    """A router's counters of one service environment, every version together."""

    requests: int
    errors: int
    p95_ms: float | None


class RouterStatistics(Protocol):
    """The live counters of a service environment's traffic router (since their last reset).

    Raises a `CodeError` when the router cannot be asked.
    """

    def counters(self, service: str, environment: str) -> TrafficCounters:
        """What the router of `service` in `environment` counted."""


class OperationsSource(Protocol):
    name: str

    def measure(self, service: str, environment: str, start: datetime, end: datetime) -> Measured:
        """Observations over `[start, end)` (as far as the source can scope them)."""


def judge(measured: Measured, slos: Slos) -> list[Objective]:
    """Each measurement against its SLO (pure)."""

    def verdict(value: float | None, ok: Callable[[float], bool]) -> bool | None:
        return None if value is None else ok(value)

    uptime, p95, errors = measured.uptime_percent, measured.p95_ms, measured.error_rate_percent
    return [
        Objective("uptime", "Uptime", uptime, "%", f">= {slos.availability_percent:g} %",
                  verdict(uptime, lambda v: v >= slos.availability_percent)),
        Objective("p95_latency", "Response time (p95)", p95, "ms", f"< {slos.p95_latency_ms:g} ms",
                  verdict(p95, lambda v: v < slos.p95_latency_ms)),
        Objective("error_rate", "Error rate", errors, "%", f"< {slos.error_rate_percent:g} %",
                  verdict(errors, lambda v: v < slos.error_rate_percent)),
    ]  # fmt: skip


class PrometheusOperations:
    """The SLO queries of `observe.promql` over the window, at its end."""

    name = "prometheus"

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.base_url = base_url
        self.client = client

    def measure(self, service: str, environment: str, start: datetime, end: datetime) -> Measured:
        del environment  # the default queries select by the `service` label only
        window = end - start
        with PrometheusClient(self.base_url, client=self.client) as prometheus:
            values = {
                key: prometheus.query(render(query, service=service, window=window), end)
                for key, query in SLO_QUERIES.items()
            }
        return Measured(**values)


class RouterOperations:
    """The environment's traffic router: counters since their last reset, all versions."""

    name = "router"

    def __init__(self, statistics: RouterStatistics) -> None:
        self.statistics = statistics

    def measure(self, service: str, environment: str, start: datetime, end: datetime) -> Measured:
        del start, end  # the router keeps counters, not history
        counters = self.statistics.counters(service, environment)
        if not counters.requests:
            return Measured()
        return Measured(
            p95_ms=counters.p95_ms, error_rate_percent=100 * counters.errors / counters.requests
        )


def slos_of(repo: str) -> tuple[Slos, str]:
    """The SLOs of `code.yaml` in a local repository, else the defaults (and why)."""
    path = Path(repo).expanduser() / "code.yaml" if repo and "://" not in repo else None
    if path is None or not path.is_file():
        return Slos(), "default SLOs (no code.yaml in a local repository)"
    try:
        return load_spec(path).slos, ""
    except (CodeError, OSError) as exc:
        return Slos(), f"default SLOs ({path.name}: {exc})"


def default_source(settings: Settings, router: RouterStatistics) -> OperationsSource:
    """Prometheus when `CODE_METRICS_PROMETHEUS_URL` is set, else the environment's router."""
    if settings.metrics_prometheus_url:
        return PrometheusOperations(settings.metrics_prometheus_url)
    return RouterOperations(router)


def measure_operations(
    session: Session,
    source: OperationsSource,
    *,
    service: str,
    environment: str,
    start: datetime,
    end: datetime,
) -> OperationsReport:
    """Measure one service environment and judge it against its SLOs.

    A source that cannot answer (a `CodeError`: unreachable, refused) leaves the figures
    empty and says why in the note.
    """
    row = require_service(session, service)
    require_environment(session, row.id, environment)
    slos, notes = slos_of(row.repo)
    try:
        measured = source.measure(service, environment, start, end)
    except CodeError as exc:
        measured, notes = Measured(), "; ".join(filter(None, [str(exc), notes]))
    return _report(source, service, environment, start, end, measured, slos, notes)


def _report(
    source: OperationsSource,
    service: str,
    environment: str,
    start: datetime,
    end: datetime,
    measured: Measured,
    slos: Slos,
    notes: str,
) -> OperationsReport:
    if isinstance(source, RouterOperations):
        notes = "; ".join(filter(None, [
            "router counters since their last reset; uptime needs Prometheus "
            "(CODE_METRICS_PROMETHEUS_URL)", notes]))  # fmt: skip
    return OperationsReport(
        service, environment, source.name, start, end, judge(measured, slos), notes
    )


def measure_many(
    services: Sequence[tuple[str, str]],
    source: OperationsSource,
    *,
    environment: str,
    start: datetime,
    end: datetime,
    workers: int = 8,
    timeout: float = 10.0,
) -> list[OperationsReport]:
    """Measure `(service, repo)` pairs concurrently, in their order, within `timeout` seconds.

    A page must not wait for one slow source per service in turn: a service whose figures
    are not in after `timeout` seconds, or whose source failed, gets empty figures and a
    note saying why. Nothing here reads the store.
    """
    if not services:
        return []
    slos = [slos_of(repo) for _, repo in services]
    pool = ThreadPoolExecutor(min(workers, len(services)), thread_name_prefix="code-operations")
    futures = [
        pool.submit(source.measure, service, environment, start, end) for service, _ in services
    ]
    done, _ = wait(futures, timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)  # late answers are dropped, not awaited
    reports = []
    for (service, _), (slo, notes), future in zip(services, slos, futures, strict=True):
        measured, problem = Measured(), ""
        if future not in done:
            problem = f"{source.name} did not answer within {timeout:g} s"
        elif (exc := future.exception()) is not None:
            if isinstance(exc, CodeError):
                problem = str(exc)
            else:  # a bug, not an unreachable source: logged in full, named on the page
                problem = f"{source.name} failed: {type(exc).__name__}"
                log.warning("operational metrics failed", service=service, error=repr(exc))
        else:
            measured = future.result()
        notes = "; ".join(filter(None, [problem, notes]))
        reports.append(_report(source, service, environment, start, end, measured, slo, notes))
    return reports


def operations_to_dict(report: OperationsReport) -> dict[str, Any]:
    return asdict(report)
