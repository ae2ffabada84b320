"""A real Prometheus started by a test: its binary, and waiting for it to hold samples."""

from __future__ import annotations

import subprocess

import httpx
from tests.support.components import binary
from tests.support.waiting import wait_until


def prometheus_binary() -> str:
    """The `prometheus` executable; skips, or fails with CODE_TEST_REQUIRE_PROMETHEUS=1."""
    return binary("prometheus", "prometheus", "apt-get install prometheus")


def wait_for_samples(
    url: str, process: subprocess.Popen[bytes], query: str, at_least: float, timeout: float = 60.0
) -> None:
    """Until the instant `query` answers a first value of at least `at_least`.

    Prometheus answers `503 Service Unavailable` (plain text) until its storage is ready:
    that, like a refused connection, means not yet.
    """

    def collected() -> bool:
        assert process.poll() is None, "prometheus exited early"
        try:
            answer = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=2)
        except httpx.HTTPError:
            return False
        if answer.status_code != httpx.codes.OK:
            return False
        result = answer.json().get("data", {}).get("result", [])
        return bool(result) and float(result[0]["value"][1]) >= at_least

    wait_until(collected, timeout, f"prometheus to collect samples ({query})", interval=0.5)
