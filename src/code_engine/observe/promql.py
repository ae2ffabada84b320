"""PromQL of a service's HTTP traffic, and one client for Prometheus's instant-query API.

The canary analysis of a rollout (per version, over an analysis window) and the operations
report (per service, against its SLOs) ask Prometheus about the same series: the series
names and the query arithmetic are written here once, and both read them from here.

Templates hold `{service}`, `{version}` and `{window}` placeholders that `render` fills.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import httpx

from code_engine.errors import CodeError

SERVICE = 'service="{service}"'
SERVICE_VERSION = 'service="{service}",version="{version}"'


def requests_total(selector: str) -> str:
    """Requests counted over the window."""
    return f"sum(increase(http_requests_total{{{selector}}}[{{window}}]))"


def errors_total(selector: str) -> str:
    """Responses with a 5xx status counted over the window."""
    return f'sum(increase(http_requests_total{{{selector},code=~"5.."}}[{{window}}]))'


def p95_seconds(selector: str) -> str:
    """The 95th percentile latency over the window, in seconds."""
    return (
        "histogram_quantile(0.95, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{selector}}}[{{window}}])))"
    )


def latency_buckets(selector: str) -> str:
    """The cumulative latency histogram of the window: one series per `le` label."""
    return f"sum by (le) (increase(http_request_duration_seconds_bucket{{{selector}}}[{{window}}]))"


def status_total(selector: str, code: str) -> str:
    """Responses with one status code (e.g. a load balancer's 504 or 502) over the window."""
    return f'sum(increase(http_requests_total{{{selector},code="{code}"}}[{{window}}]))'


def uptime_percent(selector: str) -> str:
    """The share of scrapes that found the service up over the window, in percent."""
    return f"100 * avg(avg_over_time(up{{{selector}}}[{{window}}]))"


def error_rate_percent(selector: str) -> str:
    """5xx responses in percent of all requests; no 5xx series at all counts as none."""
    return f"100 * ({errors_total(selector)} or vector(0)) / {requests_total(selector)}"


# The operations report: one service, all its versions, against its SLOs.
SLO_QUERIES: Mapping[str, str] = {
    "uptime_percent": uptime_percent(SERVICE),
    "p95_ms": f"1000 * {p95_seconds(SERVICE)}",
    "error_rate_percent": error_rate_percent(SERVICE),
}


def promql_string(value: str) -> str:
    """Escape a value for use inside a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def promql_duration(window: timedelta) -> str:
    """A window as a PromQL duration in whole seconds (at least one)."""
    return f"{max(1, round(window.total_seconds()))}s"


def render(template: str, *, service: str, version: str = "", window: timedelta) -> str:
    """Fill the placeholders of a query template."""
    return (
        template.replace("{service}", promql_string(service))
        .replace("{version}", promql_string(version))
        .replace("{window}", promql_duration(window))
    )


class PrometheusError(CodeError):
    """Prometheus could not be reached or gave an answer we cannot use."""


class PrometheusClient:
    """Instant queries over Prometheus's `/api/v1/query`; each must yield at most one series."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout, headers=dict(headers or {}))

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this one created it."""
        if self._owns_client:
            self._client.close()

    def query(self, promql: str, at: datetime) -> float | None:
        """One instant query; None for an empty result or NaN."""
        return _value(self._ask(promql, at), promql)

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
