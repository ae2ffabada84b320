"""Synchronisation on conditions: a test waits for what it needs, never for a fixed time.

Every deadline is an upper bound that only a failing test reaches; on a machine busier than
these bounds allow, `CODE_TEST_TIMEOUT_SCALE=3` stretches all of them (and pytest-timeout's).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

TIMEOUT_SCALE = float(os.environ.get("CODE_TEST_TIMEOUT_SCALE") or 1)


def scaled(seconds: float) -> float:
    """A deadline of `seconds` on a machine of normal speed, stretched by the scale."""
    return seconds * TIMEOUT_SCALE


def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 30.0,
    what: str = "the condition",
    interval: float = 0.05,
) -> Any:
    """Poll until `predicate()` is truthy and return its value; fail the test after `timeout`
    (scaled by CODE_TEST_TIMEOUT_SCALE)."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def wait_for_http(
    url: str,
    timeout: float = 60.0,
    process: subprocess.Popen[Any] | None = None,
    log: Path | None = None,
) -> None:
    """Until `url` answers 200; fails at once (with the log) if `process` exits first."""

    def answered() -> bool:
        if process is not None and process.poll() is not None:
            output = log.read_text(errors="replace") if log else ""
            pytest.fail(f"process exited with {process.returncode} before {url} answered\n{output}")
        try:
            return httpx.get(url, timeout=2).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False

    try:
        wait_until(answered, timeout, url, interval=0.1)
    except pytest.fail.Exception:
        if process is not None and process.poll() is None:
            process.kill()
        if log is not None:
            pytest.fail(f"{url} did not answer in time:\n{log.read_text()}")
        raise


def holds_for(
    predicate: Callable[[], Any], duration: float, what: str, interval: float = 0.1
) -> None:
    """Check that `predicate()` stays truthy for `duration` seconds, failing the moment it
    does not: how a test shows that something does NOT happen (a worker leaves a deployment
    alone), which no single condition can signal."""
    deadline = time.monotonic() + duration
    while True:
        if not predicate():
            pytest.fail(f"{what} stopped holding")
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)
