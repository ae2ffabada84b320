"""The test session in CI (`CODE_CI=1`, or `CI` as CI services set it): Hypothesis's `ci`
profile, an empty skip list or a failed run, and deadlines stretched on request.

Loaded by `tests/conftest.py` (`pytest_plugins`); `-p tests.support.ci` loads it elsewhere.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

STRICT = os.environ.get("CODE_CI") == "1"
IN_CI = STRICT or os.environ.get("CI", "").lower() in ("1", "true")

# On a loaded CI machine, generating inputs can be slow: the "ci" profile keeps every property
# and example count and drops only the timing checks (the too_slow health check, the deadline).
# It derives from the default profile: with CI set, Hypothesis loads a "ci" profile of its own
# (derandomized) that would otherwise be the parent.
hypothesis_settings.register_profile(
    "ci",
    parent=hypothesis_settings.get_profile("default"),
    suppress_health_check=[HealthCheck.too_slow],
    deadline=None,
)
if IN_CI:
    hypothesis_settings.load_profile("ci")

_skipped: list[pytest.TestReport | pytest.CollectReport] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """CODE_TEST_TIMEOUT_SCALE stretches pytest-timeout's limit like every wait's deadline."""
    scale = float(os.environ.get("CODE_TEST_TIMEOUT_SCALE") or 1)
    if scale != 1:
        limit = float(config.getini("timeout") or 300) * scale
        for item in items:
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(limit))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped:
        _skipped.append(report)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _controller(config: pytest.Config) -> bool:
    """Not a pytest-xdist worker: the process that sees every report."""
    return not hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With CODE_CI=1 a skipped test fails the run: CI tests everything or says why not."""
    if STRICT and _skipped and _controller(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not STRICT or not _controller(terminalreporter.config):
        return
    terminalreporter.section("skipped tests (CODE_CI=1: must be none)")
    for report in _skipped:
        terminalreporter.line(f"SKIPPED {report.nodeid}: {_skip_reason(report)}")
    terminalreporter.line(f"{len(_skipped)} skipped" + (": the run fails" if _skipped else ""))
