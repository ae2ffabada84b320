"""The report as SARIF 2.1.0 for GitHub code scanning: one rule per check, a result per failure."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

from code_engine import __version__
from code_engine.assess.docs import anchor
from code_engine.assess.model import CheckResult, Evidence, Report, Status
from code_engine.assess.registry import CHECKS

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SEVERITY = {1: "error", 2: "warning", 3: "note"}
_SECURITY_SEVERITY = {1: "7.0", 2: "4.0", 3: "1.0"}
DOCS_URL = "https://code-engine.dev/docs/assess-checks.md"


def report_to_sarif(report: Report) -> dict[str, Any]:
    """A SARIF log with one run; results only for failing checks."""
    index = {check.id: i for i, check in enumerate(CHECKS)}
    results = [
        sarif
        for r in report.results
        if r.status is Status.FAIL
        for sarif in _results(r, index[r.id], report.present)
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "codectl assess",
                "semanticVersion": __version__,
                "rules": [_rule(check) for check in CHECKS],
            }
        },
        "automationDetails": {"id": "codectl-assess/"},
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(check: Any) -> dict[str, Any]:
    return {
        "id": check.id,
        "name": "".join(part.title() for part in check.id.replace(".", "-").split("-")),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": check.why},
        "helpUri": f"{DOCS_URL}#{anchor(check.id)}",
        "help": {"text": check.fix, "markdown": f"**Why:** {check.why}\n\n**Fix:** {check.fix}"},
        "defaultConfiguration": {"level": _SEVERITY[check.level]},
        "properties": {
            "tags": ["devops-maturity", check.category.value, f"level-{check.level}"],
            "precision": "high",
            "security-severity": _SECURITY_SEVERITY[check.level],
        },
    }


def _results(result: CheckResult, rule_index: int, present: frozenset[str]) -> list[dict[str, Any]]:
    """A failing check's results: one per failing package of a monorepo, located at the
    package's manifest; otherwise one for the check."""
    failing = [p for p in result.packages if p.status is Status.FAIL]
    if not failing:
        return [_result(result, rule_index, present)]
    found = []
    for package in failing:
        where = Evidence(package.manifest, None, package.message)
        sarif = _result(
            replace(
                result,
                message=f"package {package.manifest}: {package.message}",
                evidence=(where, *package.evidence),
            ),
            rule_index,
            present | {package.manifest},
        )
        sarif["partialFingerprints"]["assessPackage/v1"] = package.manifest
        found.append(sarif)
    return found


def _result(result: CheckResult, rule_index: int, present: frozenset[str]) -> dict[str, Any]:
    """A failing check; located at its first evidence file that exists, else repository-level."""
    located = next((e for e in result.evidence if e.file and e.file in present), None)
    notes = "; ".join(e.render() for e in result.evidence[:5])
    text = f"{result.title}: {result.message}." + (f" Evidence: {notes}." if notes else "")
    sarif: dict[str, Any] = {
        "ruleId": result.id,
        "ruleIndex": rule_index,
        "level": _SEVERITY[result.level],
        "message": {"text": f"{text} Fix: {result.remediation}"},
        "partialFingerprints": {"assessCheck/v1": result.id},
    }
    if located is not None and located.file is not None:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": quote(located.file, safe="/"), "uriBaseId": "%SRCROOT%"}
        }
        if located.line:
            physical["region"] = {"startLine": located.line}
        sarif["locations"] = [{"physicalLocation": physical}]
    return sarif
