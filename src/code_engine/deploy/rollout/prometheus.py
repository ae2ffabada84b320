"""Canary metrics from Prometheus: a version's traffic queries (`observe.promql`) per sample."""

from __future__ import annotations

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

    `requests` and `errors` must return a count over the window, `p95_seconds` the 95th
    percentile latency in seconds; each must aggregate to at most one series.
    """

    requests: str = promql.requests_total(promql.SERVICE_VERSION)
    errors: str = promql.errors_total(promql.SERVICE_VERSION)
    p95_seconds: str = promql.p95_seconds(promql.SERVICE_VERSION)


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

        requests = ask(self.queries.requests)
        errors = ask(self.queries.errors)
        p95 = ask(self.queries.p95_seconds)
        return MetricSample(
            version,
            since,
            until,
            requests=_count(requests),
            errors=_count(errors),
            p95_ms=None if p95 is None else p95 * 1000.0,
        )

    def query(self, query: str, at: datetime) -> float | None:
        """One instant query; None for an empty result or NaN."""
        try:
            return self.prometheus.query(query, at)
        except promql.PrometheusError as exc:
            raise PrometheusError(str(exc)) from exc


def _count(value: float | None) -> float:
    """A missing series means nothing was counted (e.g. no 5xx at all)."""
    return 0.0 if value is None else value
