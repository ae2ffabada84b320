"""Canary metrics from Prometheus: a version's traffic queries (`observe.promql`) per sample."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import httpx

from code_engine.deploy.rollout.analysis import MetricError, MetricSample
from code_engine.observe import promql


@dataclass(frozen=True)
class PromQueries:
    """PromQL templates; `{service}`, `{version}` and `{window}` are filled in per sample.

    `requests`, `errors`, `timeouts` and `connect_errors` must return a count over the
    window (the last two are parts of `errors`: the 504 and 502 answers of the load
    balancer in front of the service); `p95_seconds` the 95th percentile latency in
    seconds; each must aggregate to at most one series. `latency_buckets` returns one
    series per `le` label: the cumulative histogram of the window, from which the p95,
    the p99 and the share of slow requests are judged. `in_flight_buckets`, when set,
    returns one series per `le` label: the ages (seconds) of the requests waiting now.
    """

    requests: str = promql.requests_total(promql.SERVICE_VERSION)
    errors: str = promql.errors_total(promql.SERVICE_VERSION)
    p95_seconds: str = promql.p95_seconds(promql.SERVICE_VERSION)
    latency_buckets: str | None = promql.latency_buckets(promql.SERVICE_VERSION)
    timeouts: str | None = promql.status_total(promql.SERVICE_VERSION, "504")
    connect_errors: str | None = promql.status_total(promql.SERVICE_VERSION, "502")
    in_flight_buckets: str | None = None


class PrometheusError(MetricError, promql.PrometheusError):
    """Prometheus could not be reached or gave an answer we cannot use: no canary sample."""


class PrometheusProvider:
    """A `MetricProvider` asking Prometheus about one service's versions."""

    def __init__(
        self,
        base_url: str,
        service: str,
        *,
        queries: PromQueries | None = None,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.service = service
        self.queries = queries or PromQueries()
        self.prometheus = promql.PrometheusClient(
            base_url, timeout=timeout, headers=headers, client=client
        )

    def __enter__(self) -> PrometheusProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this provider created it."""
        self.prometheus.close()

    def sample(self, version: str, since: datetime, until: datetime) -> MetricSample:
        """Requests, 5xx errors and p95 of `version` over (since, until]; empty means none."""
        window = until - since

        def ask(template: str) -> float | None:
            query = promql.render(template, service=self.service, version=version, window=window)
            return self.query(query, until)

        def buckets(template: str | None) -> tuple[tuple[float, float], ...] | None:
            if template is None:
                return None
            query = promql.render(template, service=self.service, version=version, window=window)
            return _buckets(self.query_vector(query, until), query)

        queries = self.queries
        requests, errors = _count(ask(queries.requests)), _count(ask(queries.errors))
        latency = buckets(queries.latency_buckets)
        p95 = None if latency else ask(queries.p95_seconds)
        return MetricSample(
            version,
            since,
            until,
            requests=requests,
            errors=errors,
            p95_ms=None if p95 is None else p95 * 1000.0,
            latency_buckets=latency or None,
            timeouts=_count(ask(queries.timeouts) if queries.timeouts else None),
            connect_errors=_count(ask(queries.connect_errors) if queries.connect_errors else None),
            in_flight_buckets=buckets(queries.in_flight_buckets) or None,
        )

    def query_vector(self, query: str, at: datetime) -> list[tuple[dict[str, str], float]]:
        """One instant query answered by several series: (labels, value) of each."""
        try:
            return self.prometheus.query_vector(query, at)
        except promql.PrometheusError as exc:
            raise PrometheusError(str(exc)) from exc

    def query(self, query: str, at: datetime) -> float | None:
        """One instant query; None for an empty result or NaN."""
        try:
            return self.prometheus.query(query, at)
        except promql.PrometheusError as exc:
            raise PrometheusError(str(exc)) from exc


def _buckets(
    series: list[tuple[dict[str, str], float]], query: str
) -> tuple[tuple[float, float], ...]:
    """Cumulative (le, count) pairs from series labelled `le`; NaN counts as 0."""
    pairs = []
    for labels, value in series:
        if "le" not in labels:
            raise PrometheusError(f"{query!r} returned a series without an `le` label")
        try:
            bound = float(labels["le"])
        except ValueError as exc:
            raise PrometheusError(f"{query!r} returned le={labels['le']!r}") from exc
        pairs.append((bound, 0.0 if math.isnan(value) else value))
    return tuple(sorted(pairs))


def _count(value: float | None) -> float:
    """A missing series means nothing was counted (e.g. no 5xx at all)."""
    return 0.0 if value is None else value
