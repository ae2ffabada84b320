"""The roll-up of a package-scoped check over a monorepo's packages, and the report schemas."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from code_engine.assess.history import validate_report
from code_engine.assess.model import Evidence, PackageResult, Report, Status
from code_engine.assess.monorepo import roll_up
from code_engine.assess.registry import CHECKS
from code_engine.assess.report import report_to_dict
from code_engine.errors import PayloadError


def _package(directory: str, status: Status) -> PackageResult:
    manifest = f"{directory}/go.mod"
    return PackageResult(manifest, "go", status, status.value, (Evidence(manifest, 1),))


@pytest.mark.parametrize(
    ("statuses", "status", "message"),
    [
        ((Status.PASS, Status.PASS), Status.PASS, "2/2 packages"),
        ((Status.PASS, Status.FAIL, Status.FAIL), Status.FAIL, "1/3 packages; failing: b, c"),
        ((Status.PASS, Status.NOT_APPLICABLE), Status.PASS, "1/1 packages (1 not applicable)"),
        (
            (Status.NOT_APPLICABLE, Status.NOT_APPLICABLE),
            Status.NOT_APPLICABLE,
            "applies to none of 2 packages",
        ),
        ((Status.PASS, Status.UNKNOWN), Status.UNKNOWN, "1/2 packages; unknown: b"),
        ((Status.UNKNOWN, Status.FAIL), Status.FAIL, "0/2 packages; failing: b"),
    ],
)
def test_roll_up(statuses: tuple[Status, ...], status: Status, message: str) -> None:
    results = tuple(_package(name, s) for name, s in zip("abc", statuses, strict=False))
    outcome = roll_up(results)
    assert (outcome.status, outcome.message) == (status, message)
    if status is Status.FAIL:
        failing = [r.manifest for r in results if r.status is Status.FAIL]
        assert [e.file for e in outcome.evidence] == failing


def test_package_scoped_checks_are_the_documented_ones() -> None:
    assert {c.id for c in CHECKS if c.scope == "package"} == {
        "dev.dependencies",
        "dev.locked-dependencies",
        "ci.tests",
        "ci.quality-jobs",
        "ci.coverage",
        "obs.metrics",
        "obs.structured-logging",
        "obs.tracing",
    }


def test_the_store_accepts_schema_1_and_2() -> None:
    report = Report("/r", None, datetime(2026, 11, 1, tzinfo=timezone.utc), 0, ())
    current = report_to_dict(report)
    validate_report(current)
    old = {k: v for k, v in current.items() if k != "packages"} | {"schema_version": "1"}
    validate_report(old)
    with pytest.raises(PayloadError):
        validate_report({k: v for k, v in current.items() if k != "packages"})
