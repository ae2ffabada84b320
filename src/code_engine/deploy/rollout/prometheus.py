"""Canary metrics from Prometheus: templated PromQL over the `/api/v1/query` HTTP API."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import httpx

from code_engine.deploy.rollout.analysis import MetricError, MetricSample

_SELECTOR = 'service="{service}",version="{version}"'


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

    requests: str = f"sum(increase(http_requests_total{{{_SELECTOR}}}[{{window}}]))"
    errors: str = f'sum(increase(http_requests_total{{{_SELECTOR},code=~"5.."}}[{{window}}]))'
    p95_seconds: str = (
        "histogram_quantile(0.95, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{_SELECTOR}}}[{{window}}])))"
    )
    latency_buckets: str | None = (
        f"sum by (le) (increase(http_request_duration_seconds_bucket{{{_SELECTOR}}}[{{window}}]))"
    )
    timeouts: str | None = (
        f'sum(increase(http_requests_total{{{_SELECTOR},code="504"}}[{{window}}]))'
    )
    connect_errors: str | None = (
        f'sum(increase(http_requests_total{{{_SELECTOR},code="502"}}[{{window}}]))'
    )
    in_flight_buckets: str | None = None


class PrometheusError(MetricError):
    """Prometheus could not be reached or gave an answer we cannot use."""


def promql_string(value: str) -> str:
    """Escape a value for use inside a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def promql_duration(window: timedelta) -> str:
    """A window as a PromQL duration in whole seconds (at least one)."""
    return f"{max(1, round(window.total_seconds()))}s"


def render(template: str, *, service: str, version: str, window: timedelta) -> str:
    """Fill the placeholders of a query template."""
    return (
        template.replace("{service}", promql_string(service))
        .replace("{version}", promql_string(version))
        .replace("{window}", promql_duration(window))
    )


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
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.queries = queries or PromQueries()
        self.timeout = timeout
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout, headers=dict(headers or {}))

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
        if self._owns_client:
            self._client.close()

    def sample(self, version: str, since: datetime, until: datetime) -> MetricSample:
        """Requests, 5xx errors and p95 of `version` over (since, until]; empty means none."""
        window = until - since

        def ask(template: str) -> float | None:
            query = render(template, service=self.service, version=version, window=window)
            return self.query(query, until)

        def buckets(template: str | None) -> tuple[tuple[float, float], ...] | None:
            if template is None:
                return None
            query = render(template, service=self.service, version=version, window=window)
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

    def query_vector(self, promql: str, at: datetime) -> list[tuple[dict[str, str], float]]:
        """One instant query answered by several series: (labels, value) of each."""
        data = self._ask(promql, at)
        result: Any = data.get("result")
        if data.get("resultType") != "vector" or not isinstance(result, list):
            raise PrometheusError(f"{promql!r} did not return an instant vector")
        try:
            return [(dict(item["metric"]), float(item["value"][1])) for item in result]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise PrometheusError(f"malformed Prometheus result for {promql!r}: {exc}") from exc

    def query(self, promql: str, at: datetime) -> float | None:
        """One instant query; None for an empty result or NaN."""
        return _value(self._ask(promql, at), promql)

    def _ask(self, promql: str, at: datetime) -> Mapping[str, Any]:
        url = f"{self.base_url}/api/v1/query"
        try:
            response = self._client.get(
                url, params={"query": promql, "time": f"{at.timestamp():.3f}"}, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            raise PrometheusError(
                f"Prometheus at {self.base_url} did not answer within {self.timeout:g}s"
            ) from exc
        except httpx.HTTPError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.base_url}: {exc}") from exc
        return _payload(response, promql)


def _buckets(
    series: list[tuple[dict[str, str], float]], promql: str
) -> tuple[tuple[float, float], ...]:
    """Cumulative (le, count) pairs from series labelled `le`; NaN counts as 0."""
    pairs = []
    for labels, value in series:
        if "le" not in labels:
            raise PrometheusError(f"{promql!r} returned a series without an `le` label")
        try:
            bound = float(labels["le"])
        except ValueError as exc:
            raise PrometheusError(f"{promql!r} returned le={labels['le']!r}") from exc
        pairs.append((bound, 0.0 if math.isnan(value) else value))
    return tuple(sorted(pairs))


def _count(value: float | None) -> float:
    """A missing series means nothing was counted (e.g. no 5xx at all)."""
    return 0.0 if value is None else value


def _payload(response: httpx.Response, promql: str) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        snippet = response.text[:200].strip()
        raise PrometheusError(
            f"Prometheus answered HTTP {response.status_code} with a non-JSON body: {snippet!r}"
        ) from None
    if not isinstance(body, dict):
        raise PrometheusError(f"unexpected Prometheus response: {str(body)[:200]}")
    if body.get("status") != "success":
        kind = body.get("errorType", f"HTTP {response.status_code}")
        detail = body.get("error", "no error message")
        raise PrometheusError(f"Prometheus rejected {promql!r}: {kind}: {detail}")
    if response.is_error:
        raise PrometheusError(f"Prometheus answered HTTP {response.status_code} to {promql!r}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise PrometheusError(f"Prometheus response to {promql!r} has no data")
    return data


def _value(data: Mapping[str, Any], promql: str) -> float | None:
    kind: Any = data.get("resultType")
    result: Any = data.get("result")
    try:
        if kind == "scalar":
            return _number(result[1])
        if kind == "vector" and isinstance(result, list):
            if not result:
                return None
            if len(result) > 1:
                raise PrometheusError(
                    f"{promql!r} returned {len(result)} series; aggregate it to one (e.g. sum)"
                )
            return _number(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise PrometheusError(f"malformed Prometheus result for {promql!r}: {exc}") from exc
    raise PrometheusError(f"{promql!r} returned a {kind} result; an instant vector is needed")


def _number(text: Any) -> float | None:
    value = float(text)
    return None if math.isnan(value) else value
