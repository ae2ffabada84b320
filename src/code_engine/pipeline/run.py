"""`codectl ci` as a service function: plan, run through the cache, judge the gates."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from code_engine.pipeline.cache import ContentCache
from code_engine.pipeline.files import (
    ContentHashes,
    existing,
    file_sha256,
    matching,
    repository_files,
)
from code_engine.pipeline.gates import evaluate
from code_engine.pipeline.graph import pipeline_steps, select
from code_engine.pipeline.model import Artifact, RunReport, Step
from code_engine.pipeline.pytest_steps import REPORTS
from code_engine.pipeline.runner import Progress, Runner, missing_tools
from code_engine.pipeline.tools import ToolVersions
from code_engine.spec.pipeline import Pipeline
from code_engine.spec.quality import QualityGates

CACHE_DIR = "build/ci-cache"


def cache_root(repo: Path) -> Path:
    """Where the content cache lives: `$CODE_CI_CACHE`, else `build/ci-cache` in the repo."""
    configured = os.environ.get("CODE_CI_CACHE")
    return Path(configured) if configured else repo / CACHE_DIR


def plan(repo: Path, service: str, spec: Pipeline, stages: Sequence[str] = (),
         names: Sequence[str] = ()) -> tuple[list[Step], list[Step]]:  # fmt: skip
    """All steps of the pipeline and the selected ones; PipelineError when it cannot run."""
    steps = pipeline_steps(repo, service, spec)
    chosen = select(steps, stages, names)
    missing_tools(chosen, repo)
    return steps, chosen


def run_pipeline(
    repo: Path,
    service: str,
    spec: Pipeline,
    gates_spec: QualityGates,
    now: Callable[[], datetime],
    stages: Sequence[str] = (),
    names: Sequence[str] = (),
    jobs: int | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> RunReport:
    """Run the selected steps and judge the gates; the report says what passed."""
    started = now()
    _, chosen = plan(repo, service, spec, stages, names)
    root = cache_root(repo)
    excluded = [REPORTS, "build/dist", _relative(root, repo)]
    files = repository_files(repo, [e for e in excluded if e])
    outputs = {o for step in chosen for o in step.outputs}
    produced = set(matching(files, outputs))
    runner = Runner(
        repo=repo,
        cache=ContentCache(root),
        files=[f for f in files if f not in produced],
        hashes=ContentHashes(repo, root / "hashes.json"),
        versions=ToolVersions(root / "tools.json"),
        use_cache=use_cache,
        jobs=jobs or spec.jobs or os.cpu_count() or 1,
        progress=progress,
    )
    results = runner.run(chosen)
    runner.hashes.save()
    runner.versions.save()
    complete = not stages and not names
    gates = evaluate(gates_spec, repo, chosen, results, complete)
    commit, dirty = git_state(repo)
    artifacts = [
        Artifact(path, file_sha256(repo / path))
        for step, result in zip(chosen, results, strict=True)
        if step.stage == "build" and result.status == "passed"
        for path in existing(repo, step.outputs)
    ]
    return RunReport(
        service=service,
        commit=commit,
        dirty=dirty,
        started_at=started.isoformat().replace("+00:00", "Z"),
        finished_at=now().isoformat().replace("+00:00", "Z"),
        steps=tuple(results),
        gates=tuple(gates),
        artifacts=tuple(artifacts),
    )


def _relative(path: Path, repo: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return ""


def git_state(repo: Path) -> tuple[str, bool]:
    """HEAD's commit and whether the work tree differs from it; ("", True) outside git."""
    try:
        head = _git(repo, "rev-parse", "HEAD").strip()
        status = _git(repo, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "", True
    return head, bool(status.strip())


def _git(repo: Path, *args: str) -> str:
    argv = ["git", *args]
    return subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=True).stdout  # noqa: S603, S607
