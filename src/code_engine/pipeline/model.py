"""The pipeline's domain: steps, their results, gate verdicts and a run's report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

STAGES: tuple[str, ...] = ("lint", "test", "security", "build")
StepStatus = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Step:
    """A command with declared inputs (globs), outputs and reports."""

    name: str
    stage: str
    run: tuple[str, ...]
    inputs: tuple[str, ...] = ("**/*",)
    outputs: tuple[str, ...] = ()
    reports: tuple[tuple[str, str], ...] = ()  # (kind, path)
    needs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()  # run after these whatever their outcome (their outputs feed it)
    tools: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    env_inputs: tuple[str, ...] = ()
    ok_exit_codes: tuple[int, ...] = (0,)
    engine: str | None = None
    cache: bool = True
    origin: str = "default"  # "default", or the spec field that declared it
    optional_tool: bool = False  # a default whose tool may be absent: the step fails, clearly

    def report(self, kind: str) -> str | None:
        """The path of this step's report of `kind`, if it writes one."""
        return next((path for k, path in self.reports if k == kind), None)


@dataclass(frozen=True)
class StepResult:
    """What one step did: replayed from the cache or run now."""

    name: str
    stage: str
    status: StepStatus
    cached: bool
    duration_s: float
    reason: str | None = None
    exit_code: int | None = None
    output: str = ""


@dataclass(frozen=True)
class GateResult:
    """One quality gate: its threshold, what the reports measured, and the verdict."""

    name: str
    threshold: str
    measured: str | None
    verdict: Literal["passed", "failed"]
    reason: str | None = None


@dataclass(frozen=True)
class Artifact:
    path: str
    sha256: str


@dataclass(frozen=True)
class RunReport:
    """A whole run, in the shape `codectl ci -o json` prints and the server records."""

    service: str
    commit: str
    dirty: bool
    started_at: str
    finished_at: str
    steps: tuple[StepResult, ...]
    gates: tuple[GateResult, ...]
    artifacts: tuple[Artifact, ...] = field(default=())

    @property
    def status(self) -> Literal["passed", "failed"]:
        failed = any(s.status == "failed" for s in self.steps) or any(
            g.verdict == "failed" for g in self.gates
        )
        return "failed" if failed else "passed"

    def to_dict(self) -> dict[str, object]:
        """The run report of the contract between `codectl ci` and the server."""
        return {
            "service": self.service,
            "commit": self.commit,
            "dirty": self.dirty,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "steps": [
                {
                    "name": s.name,
                    "stage": s.stage,
                    "status": s.status,
                    "cached": s.cached,
                    "duration_s": round(s.duration_s, 3),
                    "reason": s.reason,
                }
                for s in self.steps
            ],
            "gates": [
                {
                    "name": g.name,
                    "threshold": g.threshold,
                    "measured": g.measured,
                    "verdict": g.verdict,
                    "reason": g.reason,
                }
                for g in self.gates
            ],
            "artifacts": [{"path": a.path, "sha256": a.sha256} for a in self.artifacts],
        }


class PipelineError(ValueError):
    """A pipeline that cannot run as written: names the step and the spec field."""

    def __init__(self, step: str, message: str, field: tuple[str | int, ...] = ()) -> None:
        self.step = step
        self.field = field
        super().__init__(f"step {step!r}: {message}")
