"""Waiting for a real Prometheus started by a test to hold samples."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest


def wait_for_samples(
    url: str, process: subprocess.Popen[bytes], query: str, at_least: float, timeout: float = 60.0
) -> None:
    """Until the instant `query` answers a first value of at least `at_least`.

    Prometheus answers `503 Service Unavailable` (plain text) until its storage is ready:
    that, like a refused connection, means not yet.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "prometheus exited early"
        try:
            answer = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=2)
            if answer.status_code == httpx.codes.OK:
                result = answer.json().get("data", {}).get("result", [])
                if result and float(result[0]["value"][1]) >= at_least:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail("prometheus did not collect samples in time")
