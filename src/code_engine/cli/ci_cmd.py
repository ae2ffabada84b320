"""`codectl ci`: the quality pipeline of the service in this repository, as in CI."""

from __future__ import annotations

import json
import sys
import threading
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from code_engine.cli.output import console, print_json
from code_engine.errors import CheckFailedError, InvalidFileError, UserError

if TYPE_CHECKING:
    from code_engine.pipeline.model import RunReport, Step, StepResult
    from code_engine.spec.pipeline import Pipeline
    from code_engine.spec.quality import QualityGates

ci_app = typer.Typer(
    help="Run the quality pipeline (lint, test, security, build) and its gates (docs/pipeline.md).",
    invoke_without_command=True,
)


class CiOutput(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add the `ci` command group."""
    app.add_typer(ci_app, name="ci")


@ci_app.callback()
def ci(
    ctx: typer.Context,
    stage: list[str] = typer.Option(
        [], "--stage", "-s", metavar="STAGE", help="Only this stage (repeatable)."
    ),
    step: list[str] = typer.Option(
        [], "--step", metavar="STEP", help="Only this step (repeatable)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step, replay nothing."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help="Steps run at once."),
    output: CiOutput = typer.Option(CiOutput.table, "--output", "-o", help="table or json."),
    report_to: str | None = typer.Option(
        None, "--report-to", metavar="URL", help="Record the run on this CODE server."
    ),
    path: Path = typer.Option(Path(), "--path", help="The repository [default: here]."),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Show every step's output, not only a failing one's (CI logs: skip lists, "
        "slowest tests, coverage).",
    ),
) -> None:
    """Run the pipeline's steps through the cache, then judge the quality gates."""
    if ctx.invoked_subcommand is not None:
        return
    from code_engine.clock import utc_now
    from code_engine.pipeline.model import PipelineError
    from code_engine.pipeline.run import run_pipeline

    repo = path.resolve()
    service, pipeline, gates, spec_file = _spec(repo)
    try:
        report = run_pipeline(
            repo, service, pipeline, gates, utc_now, stage, step, jobs, not no_cache,
            _Progress(),
        )  # fmt: skip
    except PipelineError as exc:
        raise _spec_error(exc, spec_file) from None
    err = console(stderr=True)
    for result in report.steps:
        if result.output and (result.status == "failed" or verbose):
            err.rule(f"output of {result.name} ({result.reason or result.status})")
            sys.stderr.write(
                result.output if result.output.endswith("\n") else result.output + "\n"
            )
    if output is CiOutput.json:
        print_json(report.to_dict())
    else:
        _print_tables(report)
    if report_to:
        _record(report_to, report.to_dict())
    if report.status != "passed":
        failed = [s.name for s in report.steps if s.status == "failed"]
        failed += [f"gate {g.name}" for g in report.gates if g.verdict == "failed"]
        raise CheckFailedError(f"pipeline failed: {', '.join(failed)}")


def _spec(repo: Path) -> tuple[str, Pipeline, QualityGates, Path | None]:
    from code_engine.pipeline.run import cache_root
    from code_engine.pipeline.specfile import pipeline_spec
    from code_engine.spec.pipeline import Pipeline
    from code_engine.spec.quality import QualityGates

    spec_file = repo / "code.yaml"
    if spec_file.is_relative_to(Path.cwd()):
        spec_file = spec_file.relative_to(Path.cwd())
    if not spec_file.is_file():
        return repo.name, Pipeline(), QualityGates(), None
    service, pipeline, gates = pipeline_spec(spec_file, cache_root(repo) / "spec")
    return service, pipeline, gates, spec_file


def _spec_error(exc: Exception, spec_file: Path | None) -> UserError:
    from code_engine.spec.loader import field_location

    field = getattr(exc, "field", ())
    if spec_file is None or not field:
        where = spec_file.name if spec_file is not None else "pipeline"
        return UserError(f"{where}: pipeline: {exc}")
    return InvalidFileError(problems=[field_location(spec_file, ("pipeline", *field), str(exc))])


class _Progress:
    """One line per step as it starts and ends, on stderr."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._console = console(stderr=True)

    def __call__(self, _event: str, step: Step, result: StepResult | None) -> None:
        where = f"{step.stage}/{step.name}"
        with self._lock:
            if result is None:
                self._console.print(f"[dim]...[/] {where}", highlight=False)
                return
            mark = {"passed": "[green]ok[/]", "failed": "[red]FAIL[/]"}.get(
                result.status, "[yellow]skip[/]"
            )
            cached = " (cached)" if result.cached else ""
            detail = f": {result.reason}" if result.reason else ""
            self._console.print(
                f"{mark} {where} {result.duration_s:.1f}s{cached}{detail}", highlight=False
            )


def _print_tables(report: RunReport) -> None:
    out = console()
    steps = Table(title="steps")
    for column in ("step", "stage", "status", "cached", "seconds", "reason"):
        steps.add_column(column, overflow="fold")
    for s in report.steps:
        steps.add_row(s.name, s.stage, s.status, "yes" if s.cached else "", f"{s.duration_s:.1f}",
                      s.reason or "")  # fmt: skip
    out.print(steps)
    gates = Table(title="quality gates")
    for column in ("gate", "threshold", "measured", "verdict"):
        gates.add_column(column, overflow="fold")
    for g in report.gates:
        measured = g.measured if g.measured is not None else f"- ({g.reason})"
        gates.add_row(g.name, g.threshold, measured, g.verdict)
    if report.gates:
        out.print(gates)


def _record(server: str, body: dict[str, object]) -> None:
    from code_engine.cli.client import ApiClient

    stored = ApiClient(server).post("/api/v1/pipeline/runs", body)
    run_id = stored.get("id") if isinstance(stored, dict) else None
    console(stderr=True).print(f"recorded pipeline run {run_id or ''} on {server}".rstrip())


@ci_app.command("github")
def github(
    path: Path = typer.Option(Path(), "--path", help="The repository [default: here]."),
    python: str | None = typer.Option(
        None, "--python", help="Python version of the jobs [default: pipeline.github.python]."
    ),
    check: bool = typer.Option(
        False,
        "--check",
        help="Compare with the committed workflow instead of printing: exit 1 and show a "
        "diff when it differs.",
    ),
    workflow: Path = typer.Option(
        Path(".github/workflows/ci.yml"),
        "--workflow",
        help="The committed workflow `--check` compares, relative to the repository.",
    ),
) -> None:
    """Print a GitHub Actions workflow running `codectl ci` stage by stage (pipeline.github)."""
    from code_engine.pipeline.model import PipelineError
    from code_engine.pipeline.run import plan
    from code_engine.pipeline.workflow import github_workflow

    repo = path.resolve()
    service, pipeline, _, spec_file = _spec(repo)
    try:
        steps, _ = plan(repo, service, pipeline)
    except PipelineError as exc:
        raise _spec_error(exc, spec_file) from None
    settings = pipeline.github
    if python is not None:
        settings = settings.model_copy(update={"python": python})
    text = github_workflow(steps, settings)
    if not check:
        sys.stdout.write(text)
        return
    _check_workflow(repo, workflow, text)


def _check_workflow(repo: Path, workflow: Path, text: str) -> None:
    import difflib

    try:
        current = (repo / workflow).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{workflow}: cannot read the workflow ({exc.strerror})") from None
    if current == text:
        console(stderr=True).print(f"{workflow} is up to date", highlight=False)
        return
    diff = difflib.unified_diff(
        current.splitlines(keepends=True), text.splitlines(keepends=True),
        f"{workflow} (committed)", f"{workflow} (codectl ci github)",
    )  # fmt: skip
    sys.stdout.write("".join(diff))
    raise CheckFailedError(
        f"{workflow} differs from `codectl ci github`: regenerate it with "
        f"`codectl ci github > {workflow}`"
    )


@ci_app.command("duplication")
def duplication(
    paths: list[Path] = typer.Argument(..., help="Files and directories of Python code."),
    report: Path = typer.Option(..., "--report", help="Write the JSON report here."),
    min_tokens: int = typer.Option(50, "--min-tokens", min=10, help="Shortest copy counted."),
) -> None:
    """Measure duplicated code (token-based, like CPD); the report feeds the gate."""
    from code_engine.pipeline.duplication import measure, python_files

    for path in paths:
        if not path.exists():
            raise UserError(f"{path}: no such file or directory")
    result = measure(python_files(paths), min_tokens)
    _write(report, result.to_dict())
    console(stderr=True).print(
        f"{result.percent:.2f}% of {sum(map(len, result.code_lines.values()))} code lines "
        f"duplicated ({len(result.blocks)} copies)",
        highlight=False,
    )


@ci_app.command("secrets")
def secrets(
    report: Path = typer.Option(..., "--report", help="Write the JSON report here."),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="Accepted findings [default: .secrets.baseline]."
    ),
    path: Path = typer.Option(Path(), "--path", help="The repository [default: here]."),
) -> None:
    """Scan for secrets with detect-secrets; findings in the baseline are accepted."""
    from code_engine.pipeline.secrets import SecretScanError, scan_secrets

    try:
        found = scan_secrets(path.resolve(), baseline)
    except SecretScanError as exc:
        raise UserError(str(exc)) from None
    _write(report, found)
    results = found["results"]
    count = len(results) if isinstance(results, list) else 0
    console(stderr=True).print(f"{count} new secrets found", highlight=False)


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
