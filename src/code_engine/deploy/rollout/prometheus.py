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

    `requests` and `errors` must return a count over the window, `p95_seconds` the 95th
    percentile latency in seconds; each must aggregate to at most one series.
    """

    requests: str = f"sum(increase(http_requests_total{{{_SELECTOR}}}[{{window}}]))"
    errors: str = f'sum(increase(http_requests_total{{{_SELECTOR},code=~"5.."}}[{{window}}]))'
    p95_seconds: str = (
        "histogram_quantile(0.95, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{_SELECTOR}}}[{{window}}])))"
    )


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

    def query(self, promql: str, at: datetime) -> float | None:
        """One instant query; None for an empty result or NaN."""
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
        return _value(_payload(response, promql), promql)


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
