"""Quality gates, measured from the steps' reports only: never from an exit code alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from code_engine.pipeline import reports
from code_engine.pipeline.model import GateResult, Step, StepResult
from code_engine.spec.quality import QualityGates

# a measurement: (the value shown, whether it passes); or ReportError
Measure = Callable[[Path], tuple[str, bool]]


@dataclass(frozen=True)
class Gate:
    name: str
    report: str  # the report kind it reads
    threshold: str
    measure: Measure


def _at_most(limit: float, unit: str = "") -> Callable[[float], tuple[str, bool]]:
    return lambda value: (f"{value:g}{unit}", value <= limit)


def gates_of(spec: QualityGates) -> list[Gate]:
    """The gates `spec` sets, in a stable order."""
    gates: list[Gate] = []
    minimum = spec.min_coverage_percent

    def coverage(path: Path) -> tuple[str, bool]:
        value = reports.coverage_percent(path)
        return f"{value:.1f}%", round(value, 1) >= minimum

    gates.append(Gate("coverage", "coverage", f">= {minimum:g}%", coverage))
    if spec.all_tests_pass:
        gates.append(Gate("tests", "junit", "all passed", _tests))
    if spec.max_complexity is not None:
        gates.append(Gate("complexity", "complexity", f"<= {spec.max_complexity}",
                          _complexity(spec.max_complexity)))  # fmt: skip
    if spec.max_duplication_percent is not None:
        gates.append(_duplication(spec.max_duplication_percent))
    limits = {
        "critical": spec.max_critical_vulnerabilities,
        "high": spec.max_high_vulnerabilities,
        "medium": spec.max_medium_vulnerabilities,
        "low": spec.max_low_vulnerabilities,
        "unrated": spec.max_unrated_vulnerabilities,
    }
    for severity, limit in limits.items():
        if limit is not None:
            gates.append(Gate(f"vulnerabilities ({severity})", "dependencies", f"<= {limit}",
                              _counted(reports.vulnerability_counts, severity, limit)))  # fmt: skip
    sast = {
        "high": spec.max_high_sast_findings,
        "medium": spec.max_medium_sast_findings,
        "low": spec.max_low_sast_findings,
    }
    for severity, limit in sast.items():
        if limit is not None:
            gates.append(Gate(f"sast ({severity})", "sarif", f"<= {limit}",
                              _counted(reports.sarif_counts, severity, limit)))  # fmt: skip
    if spec.max_credential_findings is not None:
        gates.append(Gate("secrets", "secrets", f"<= {spec.max_credential_findings}",
                          _counted(_secrets, "secrets", spec.max_credential_findings)))  # fmt: skip
    return gates


def _duplication(limit: float) -> Gate:
    def measure(path: Path) -> tuple[str, bool]:
        value = reports.duplication_percent(path)
        return f"{value:.2f}%", value <= limit

    return Gate("duplication", "duplication", f"<= {limit:g}%", measure)


def _tests(path: Path) -> tuple[str, bool]:
    counts = reports.junit_counts(path)
    ran = counts.tests - counts.skipped
    passed = ran - counts.failures - counts.errors
    shown = f"{passed}/{ran} passed"
    if counts.failures or counts.errors:
        shown += f" ({counts.failures} failed, {counts.errors} errors)"
    return shown, ran > 0 and passed == ran


def _secrets(path: Path) -> dict[str, int]:
    return {"secrets": reports.secret_count(path)}


def _complexity(limit: int) -> Measure:
    def measure(path: Path) -> tuple[str, bool]:
        worst, where = reports.max_complexity(path)
        return (f"{worst} ({where})" if where else str(worst)), worst <= limit

    return measure


def _counted(read: Callable[[Path], dict[str, int]], severity: str, limit: int) -> Measure:
    return lambda path: _at_most(limit)(read(path)[severity])


def evaluate(
    spec: QualityGates,
    repo: Path,
    steps: Sequence[Step],
    results: Sequence[StepResult],
    complete: bool,
) -> list[GateResult]:
    """Every gate whose report a selected step writes; on a complete run, every gate."""
    outcome = {result.name: result for result in results}
    verdicts: list[GateResult] = []
    for gate in gates_of(spec):
        producer = next((s for s in steps if s.report(gate.report) is not None), None)
        if producer is None:
            if complete:
                reason = f"unmeasurable: no step of the pipeline writes a {gate.report} report"
                verdicts.append(GateResult(gate.name, gate.threshold, None, "failed", reason))
            continue
        if gate.report == "junit":  # every test step's report: all of them must pass
            producers = [s for s in steps if s.report("junit") is not None]
            verdicts.append(_judge_all(gate, repo, producers, outcome))
            continue
        verdicts.append(_judge(gate, repo, producer, outcome.get(producer.name)))
    return verdicts


def _judge_all(
    gate: Gate, repo: Path, producers: Sequence[Step], outcome: dict[str, StepResult]
) -> GateResult:
    """One verdict over several reports: the first unmeasurable or failing one decides."""
    if len(producers) == 1:
        return _judge(gate, repo, producers[0], outcome.get(producers[0].name))
    judged = [(s.name, _judge(gate, repo, s, outcome.get(s.name))) for s in producers]
    shown = "; ".join(f"{name}: {v.measured}" for name, v in judged if v.measured is not None)
    for name, verdict in judged:
        if verdict.verdict == "failed":
            why = verdict.reason or ""
            reason = why if why.startswith("unmeasurable") else f"{name}: {why}"
            return GateResult(gate.name, gate.threshold, shown or None, "failed", reason)
    return GateResult(gate.name, gate.threshold, shown, "passed")


def _judge(gate: Gate, repo: Path, producer: Step, result: StepResult | None) -> GateResult:
    path = producer.report(gate.report) or ""
    if result is None or (result.status != "passed" and result.exit_code is None):
        why = result.reason if result is not None else "did not run"
        reason = f"unmeasurable: step {producer.name} wrote no report ({why})"
        return GateResult(gate.name, gate.threshold, None, "failed", reason)
    prefix = f"{repo}/"  # paths in reports and errors, shown relative to the repository
    try:
        measured, passed = gate.measure(repo / path)
        measured = measured.replace(prefix, "")
    except reports.ReportError as exc:
        reason = f"unmeasurable: step {producer.name}: {str(exc).replace(prefix, '')}"
        return GateResult(gate.name, gate.threshold, None, "failed", reason)
    if passed:
        return GateResult(gate.name, gate.threshold, measured, "passed")
    return GateResult(gate.name, gate.threshold, measured, "failed",
                      f"measured {measured}, threshold {gate.threshold}")  # fmt: skip
