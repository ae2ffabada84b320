"""Run evidence and release qualification: pure rules over recorded pipeline runs.

A run report (what the pipeline runner posts with `--report-to`) is the evidence; a
commit is qualified when the newest clean run recorded for it passed: status `passed`,
every step passed or skipped, every gate passed. A run of a dirty work tree is kept as
evidence but never qualifies a commit (what passed was not the commit). Qualification is
derived from the runs every time it is asked, so a run that arrives after the release
re-evaluates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

RUN_STATUSES = ("passed", "failed")
STEP_STATUSES = ("passed", "failed", "skipped")


@dataclass(frozen=True)
class StepResult:
    name: str
    stage: str
    status: str
    cached: bool
    duration_s: float
    reason: str | None = None


@dataclass(frozen=True)
class GateResult:
    name: str
    threshold: str
    measured: str | None
    verdict: str
    reason: str | None = None

    def describe(self) -> str:
        """`coverage (measured 71.0, threshold > 80)`, or the reason it was not measured."""
        if self.measured is None:
            return f"{self.name} ({self.reason or 'not measured'})"
        return f"{self.name} (measured {self.measured}, threshold {self.threshold})"


@dataclass(frozen=True)
class Artifact:
    path: str
    sha256: str


@dataclass(frozen=True)
class RunReport:
    """One run of a service's pipeline at a commit (the run report format)."""

    service: str
    commit: str
    dirty: bool
    started_at: datetime
    finished_at: datetime
    status: str
    steps: tuple[StepResult, ...] = ()
    gates: tuple[GateResult, ...] = ()
    artifacts: tuple[Artifact, ...] = ()

    @property
    def passed(self) -> bool:
        return (
            self.status == "passed"
            and all(step.status != "failed" for step in self.steps)
            and all(gate.verdict == "passed" for gate in self.gates)
        )

    @property
    def duration_s(self) -> float:
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


@dataclass(frozen=True)
class RecordedRun:
    """A run as stored: its id and report."""

    id: int
    report: RunReport


@dataclass(frozen=True)
class Qualification:
    qualified: bool
    reason: str
    run_id: int | None = None
    failed_gates: tuple[str, ...] = ()


def qualify(commit: str, runs: Sequence[RecordedRun]) -> Qualification:
    """Whether `commit` may go where a pipeline is required, from its runs newest first."""
    clean = [run for run in runs if not run.report.dirty]
    if not commit or not clean:
        shown = commit or "(none)"
        return Qualification(False, f"no passing pipeline run for commit {shown}")
    newest = clean[0]
    report = newest.report
    if report.passed:
        return Qualification(True, f"pipeline run {newest.id} passed", newest.id)
    gates = tuple(gate.describe() for gate in report.gates if gate.verdict != "passed")
    if gates:
        why = f"failed gates: {', '.join(gates)}"
    else:
        steps = [step.name for step in report.steps if step.status == "failed"]
        why = f"failed steps: {', '.join(steps)}" if steps else f"status {report.status}"
    return Qualification(
        False,
        f"no passing pipeline run for commit {commit}: run {newest.id} {why}",
        newest.id,
        tuple(gate.name for gate in report.gates if gate.verdict != "passed"),
    )


def report_to_dict(report: RunReport) -> dict[str, Any]:
    """The run report format (times as RFC 3339)."""
    return {
        "service": report.service,
        "commit": report.commit,
        "dirty": report.dirty,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "status": report.status,
        "steps": [asdict(step) for step in report.steps],
        "gates": [asdict(gate) for gate in report.gates],
        "artifacts": [asdict(a) for a in report.artifacts],
    }
