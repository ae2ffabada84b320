"""What CI runs: GitHub Actions workflows, their jobs, steps, local actions and called
workflows; `follow` takes each command on to what it runs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from code_engine.assess import gitlab
from code_engine.assess.follow import (
    PRE_COMMIT,
    WORKFLOW_DIR,
    Command,
    directory,
    expand,
    pre_commit_hooks,
    shell_directories,
)
from code_engine.assess.parsers import ParseError, YamlMap
from code_engine.assess.repo import RepoView
from code_engine.assess.substance import (
    disabled,
    disabled_jobs,
    failure_ignored,
    live_lines,
    runs_on_default_branch,
)

__all__ = [
    "PRE_COMMIT",
    "Command",
    "Workflow",
    "all_commands",
    "ci_commands",
    "job_commands",
    "pre_commit_hooks",
    "workflows",
]


@dataclass(frozen=True)
class Workflow:
    file: str
    doc: YamlMap

    @property
    def triggers(self) -> set[str]:
        # YAML 1.1 readers turn `on` into True; accept both spellings
        on = self.doc.get("on", self.doc.get(True))
        if isinstance(on, str):
            return {on}
        if isinstance(on, list | dict):
            return {str(t) for t in on}
        return set()

    @property
    def runnable(self) -> bool:
        """Triggered by push or pull request of the default branch, with a job that can run."""
        on = self.doc.get("on", self.doc.get(True))
        return runs_on_default_branch(on) and bool(self.live_jobs)

    @property
    def can_run(self) -> bool:
        """Has a trigger (any) and a job that can run."""
        return bool(self.triggers) and bool(self.live_jobs)

    @cached_property
    def live_jobs(self) -> dict[str, YamlMap]:
        """Jobs that can run: not `if: false`, not needing such a job, failure not ignored."""
        jobs = self.jobs
        off = disabled_jobs(jobs)
        return {k: v for k, v in jobs.items() if k not in off and not failure_ignored(v)}

    @cached_property
    def jobs(self) -> dict[str, YamlMap]:
        jobs = self.doc.get("jobs")
        if not isinstance(jobs, dict):
            return {}
        return {str(k): v for k, v in jobs.items() if isinstance(v, YamlMap)}


def workflow_files(view: RepoView) -> list[str]:
    return [f for f in view.yaml_files() if f.startswith(WORKFLOW_DIR)]


def workflows(view: RepoView) -> tuple[list[Workflow], list[ParseError]]:
    found: list[Workflow] = []
    errors: list[ParseError] = []
    for name in workflow_files(view):
        doc = view.yaml_doc(name)
        if isinstance(doc, ParseError):
            errors.append(doc)
        elif isinstance(doc, YamlMap):
            found.append(Workflow(name, doc))
    return found, errors


def job_commands(view: RepoView, workflow: Workflow, job_id: str) -> list[Command]:
    """Every live command of a job, with what actions, called workflows, `make`, scripts,
    tox, nox and `pre-commit run` lead to.

    A job or step that can never run or whose failure is ignored contributes nothing; a
    `run:` block contributes each live line, at its own line of the file, in the directory
    `working-directory` (or `defaults.run`) names.
    """
    job = workflow.live_jobs.get(job_id) if workflow.can_run else None
    if job is None:
        return []
    return _job(view, workflow, job_id, job, {workflow.file})


def _job(
    view: RepoView, workflow: Workflow, job_id: str, job: YamlMap, seen: set[str]
) -> list[Command]:
    called = job.get("uses")
    if isinstance(called, str):
        return _called_workflow(view, workflow, job_id, job, called, seen)
    cwd = _default_directory(job, _default_directory(workflow.doc))
    return _steps(view, workflow.file, job.get("steps"), job_id, cwd, seen)


def _default_directory(node: YamlMap, base: str = "") -> str:
    defaults = node.get("defaults")
    run = defaults.get("run") if isinstance(defaults, dict) else None
    return directory(base, run.get("working-directory")) if isinstance(run, dict) else base


def _steps(
    view: RepoView, file: str, steps: Any, job_id: str, cwd: str, seen: set[str]
) -> list[Command]:
    commands: list[Command] = []
    followed = set(seen)  # what the job already followed (a target made twice counts once)
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, YamlMap) or disabled(step.get("if")) or failure_ignored(step):
            continue
        uses = step.get("uses")
        if isinstance(uses, str):
            text = "uses " + uses + _with_text(step.get("with"))
            commands.append(Command(file, step.line_of("uses"), text, job_id, cwd))
            if uses.startswith("./"):
                commands.extend(_local_action(view, uses, job_id, seen))
        if isinstance(step.get("run"), str):
            text = step["run"]
            here = directory("", step["working-directory"]) if "working-directory" in step else cwd
            first = step.line_of("run") + (1 if "\n" in text.rstrip("\n") else 0)
            places = shell_directories(text, first, here)
            for line, live in live_lines(text, first):
                run = Command(file, line, live, job_id, places.get(line, here))
                commands.extend(expand(view, run, depth=0, seen=followed))
    return commands


def _local_action(view: RepoView, uses: str, job_id: str, seen: set[str]) -> list[Command]:
    """The steps of a local composite action (`uses: ./.github/actions/x`)."""
    base = directory("", uses.split("@", 1)[0])
    name = view.first(f"{base}/action.yml", f"{base}/action.yaml")
    if name is None or name in seen:
        return []
    doc = view.yaml_doc(name)
    runs = doc.get("runs") if isinstance(doc, YamlMap) else None
    if not isinstance(runs, YamlMap) or str(runs.get("using")) != "composite":
        return []
    return _steps(view, name, runs.get("steps"), job_id, "", seen | {name})


def _called_workflow(
    view: RepoView, caller: Workflow, job_id: str, job: YamlMap, uses: str, seen: set[str]
) -> list[Command]:
    """The jobs of a reusable workflow a job calls (`uses: ./.github/workflows/x.yml`)."""
    line = Command(caller.file, job.line_of("uses"), "uses " + uses, job_id)
    name = directory("", uses.split("@", 1)[0]) if uses.startswith("./") else None
    doc = view.yaml_doc(name) if name is not None and name not in seen else None
    if name is None or not isinstance(doc, YamlMap):
        return [line]
    called = Workflow(name, doc)
    result = [line]
    for inner, inner_job in called.live_jobs.items():
        result.extend(_job(view, called, f"{job_id}/{inner}", inner_job, seen | {name}))
    return result


def all_commands(view: RepoView) -> list[Command]:
    """Every command of every workflow job (computed once per view)."""

    def compute() -> list[Command]:
        found, _ = workflows(view)
        github = [c for wf in found for job in wf.jobs for c in job_commands(view, wf, job)]
        return github + gitlab.commands(view)

    return view.memo("ci-commands", compute)


def ci_commands(view: RepoView) -> list[Command]:
    """Every command of the workflows that run on push or pull request of the default branch,
    and of the GitLab CI jobs that run on push or merge request."""

    def compute() -> list[Command]:
        found, _ = workflows(view)
        github = [
            c
            for wf in found
            if wf.runnable
            for job in wf.live_jobs
            for c in job_commands(view, wf, job)
        ]
        return github + gitlab.commands(view)

    return view.memo("ci-commands-default-branch", compute)


def _with_text(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    return "".join(f" {k}={v}" for k, v in value.items())
