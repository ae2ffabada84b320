"""The report as a stable, documented dict (`schema_version` "2"): JSON output, API and store.

Version 2 adds each check's `scope`, a monorepo's `packages` and, for a package-scoped check,
each package's verdict; version 1 reports are still accepted by the store."""

from __future__ import annotations

from typing import Any

from code_engine import __version__
from code_engine.assess.model import (
    MAX_LEVEL,
    CategoryResult,
    CheckResult,
    Evidence,
    PackageResult,
    Report,
    Status,
)

SCHEMA_VERSION = "2"
SCHEMA_FILE = "schemas/assess-report-2.json"
SCHEMA_FILES = {"1": "schemas/assess-report-1.json", "2": SCHEMA_FILE}


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON types; the shape is `schemas/assess-report-2.json`."""
    counts = {status.value: 0 for status in Status}
    for result in report.results:
        counts[result.status.value] += 1
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "codectl assess", "version": __version__},
        "path": report.path,
        "commit": report.commit,
        "generated_at": report.generated_at.isoformat(),
        "level": report.level,
        "max_level": MAX_LEVEL,
        "summary": {
            "passed": counts[Status.PASS.value],
            "failed": counts[Status.FAIL.value],
            "not_applicable": counts[Status.NOT_APPLICABLE.value],
            "unknown": counts[Status.UNKNOWN.value],
        },
        "categories": [_category(c) for c in report.categories],
        "findings": [_evidence(e) for e in report.findings],
        "packages": [
            {"manifest": p.manifest, "directory": p.directory, "ecosystem": p.ecosystem}
            for p in report.packages
        ],
    }


def _category(category: CategoryResult) -> dict[str, Any]:
    return {
        "id": category.category.value,
        "title": category.category.label,
        "level": category.level,
        "checks": [_check(r) for r in category.results],
    }


def _check(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "title": result.title,
        "level": result.level,
        "status": result.status.value,
        "message": result.message,
        "evidence": [_evidence(e) for e in result.evidence],
        "remediation": result.remediation,
        "scope": result.scope,
        "packages": [_package(p) for p in result.packages],
    }


def _package(result: PackageResult) -> dict[str, Any]:
    return {
        "manifest": result.manifest,
        "ecosystem": result.ecosystem,
        "status": result.status.value,
        "message": result.message,
        "evidence": [_evidence(e) for e in result.evidence],
    }


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {"file": evidence.file, "line": evidence.line, "note": evidence.note}
