"""The report as SARIF 2.1.0 for GitHub code scanning: one rule per check, a result per failure."""

from __future__ import annotations

from typing import Any

from code_engine import __version__
from code_engine.assess.model import CheckResult, Report, Status
from code_engine.assess.registry import CHECKS

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SEVERITY = {1: "error", 2: "warning", 3: "note"}
_SECURITY_SEVERITY = {1: "7.0", 2: "4.0", 3: "1.0"}


def report_to_sarif(report: Report) -> dict[str, Any]:
    """A SARIF log with one run; results only for failing checks."""
    index = {check.id: i for i, check in enumerate(CHECKS)}
    results = [_result(r, index[r.id]) for r in report.results if r.status is Status.FAIL]
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
        "help": {"text": check.fix, "markdown": f"**Why:** {check.why}\n\n**Fix:** {check.fix}"},
        "defaultConfiguration": {"level": _SEVERITY[check.level]},
        "properties": {
            "tags": ["devops-maturity", check.category.value, f"level-{check.level}"],
            "precision": "high",
            "security-severity": _SECURITY_SEVERITY[check.level],
        },
    }


def _result(result: CheckResult, rule_index: int) -> dict[str, Any]:
    located = next((e for e in result.evidence if e.file), None)
    # a missing artefact is reported at the file the fix adds: GitHub needs a file location
    uri = located.file if located and located.file else result.target
    region = {"startLine": located.line if located and located.line else 1}
    notes = "; ".join(e.render() for e in result.evidence[:5])
    text = f"{result.title}: {result.message}." + (f" Evidence: {notes}." if notes else "")
    return {
        "ruleId": result.id,
        "ruleIndex": rule_index,
        "level": _SEVERITY[result.level],
        "message": {"text": f"{text} Fix: {result.remediation}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {"assessCheck/v1": result.id},
    }
