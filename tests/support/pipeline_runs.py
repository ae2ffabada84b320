"""Pipeline run reports, as `codectl ci --report-to` posts them, for tests that need a
qualified release."""

from __future__ import annotations

from typing import Any


def passing_run(service: str, sha: str) -> dict[str, Any]:
    """The run report of a pipeline that passed at `sha`."""
    return {
        "service": service,
        "commit": sha,
        "dirty": False,
        "started_at": "2026-12-01T10:00:00Z",
        "finished_at": "2026-12-01T10:01:00Z",
        "status": "passed",
        "steps": [{"name": "pytest", "stage": "test", "status": "passed", "duration_s": 1.0}],
        "gates": [{"name": "tests", "threshold": "all", "measured": "1/1", "verdict": "passed"}],
    }
