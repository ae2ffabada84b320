"""What CI runs: GitHub Actions workflows, their jobs and commands, following make and scripts."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from code_engine.assess.parsers import ParseError, YamlMap
from code_engine.assess.repo import RepoView, suffix
from code_engine.assess.substance import (
    disabled,
    disabled_jobs,
    failure_ignored,
    hook_runs,
    live_command,
    live_lines,
    runs_on_default_branch,
)

WORKFLOW_DIR = ".github/workflows/"
PRE_COMMIT = ".pre-commit-config.yaml"
_MAKE = re.compile(r"\bmake\s+((?:[^\s;&|]+\s*)+)")
_SCRIPT_SUFFIXES = ("", ".sh", ".bash", ".py")
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Command:
    """One command CI runs (a `run:` line, a `uses:` action, or a line it leads to)."""

    file: str
    line: int
    text: str
    job: str


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

    @property
    def live_jobs(self) -> dict[str, YamlMap]:
        """Jobs that can run: not `if: false`, not needing such a job, failure not ignored."""
        jobs = self.jobs
        off = disabled_jobs(jobs)
        return {k: v for k, v in jobs.items() if k not in off and not failure_ignored(v)}

    @property
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
    """Every live command of a job, with what `make`, scripts and `pre-commit run` lead to.

    A job or step that can never run or whose failure is ignored contributes nothing; a
    `run:` block contributes each live line, at its own line of the workflow.
    """
    job = workflow.live_jobs.get(job_id) if workflow.can_run else None
    commands: list[Command] = []
    steps = job.get("steps") if job is not None else None
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, YamlMap) or disabled(step.get("if")) or failure_ignored(step):
            continue
        if isinstance(step.get("uses"), str):
            text = "uses " + step["uses"] + _with_text(step.get("with"))
            commands.append(Command(workflow.file, step.line_of("uses"), text, job_id))
        if isinstance(step.get("run"), str):
            text = step["run"]
            first = step.line_of("run") + (1 if "\n" in text.rstrip("\n") else 0)
            for line, live in live_lines(text, first):
                run = Command(workflow.file, line, live, job_id)
                commands.extend(expand(view, run, depth=0, seen=set()))
    return commands


def all_commands(view: RepoView) -> list[Command]:
    """Every command of every workflow job (computed once per view)."""

    def compute() -> list[Command]:
        found, _ = workflows(view)
        return [c for wf in found for job in wf.jobs for c in job_commands(view, wf, job)]

    return view.memo("ci-commands", compute)


def ci_commands(view: RepoView) -> list[Command]:
    """Every command of the workflows that run on push or pull request of the default branch."""

    def compute() -> list[Command]:
        found, _ = workflows(view)
        return [
            c
            for wf in found
            if wf.runnable
            for job in wf.live_jobs
            for c in job_commands(view, wf, job)
        ]

    return view.memo("ci-commands-default-branch", compute)


def expand(view: RepoView, command: Command, depth: int, seen: set[str]) -> list[Command]:
    """The command and, recursively, Makefile recipes, scripts and pre-commit hooks it runs."""
    result = [command]
    if depth >= _MAX_DEPTH:
        return result
    for target in _make_targets(command.text):
        result.extend(_recipe(view, target, command.job, depth, seen))
    for script in _scripts(view, command.text):
        if script in seen:
            continue
        seen.add(script)
        for number, line in live_lines(view.text(script) or "", 1):
            inner = Command(script, number, line, command.job)
            result.extend(expand(view, inner, depth + 1, seen))
    if re.search(r"\bpre-commit\s+run\b", command.text) and PRE_COMMIT not in seen:
        seen.add(PRE_COMMIT)
        result.extend(_hooks(view, command.job))
    return result


def _recipe(view: RepoView, target: str, job: str, depth: int, seen: set[str]) -> list[Command]:
    key = f"make:{target}"
    targets = view.makefile()
    if key in seen or target not in targets:
        return []
    seen.add(key)
    rule = targets[target]
    result: list[Command] = []
    for prerequisite in rule.prerequisites:
        result.extend(_recipe(view, prerequisite, job, depth + 1, seen))
    for line in rule.recipe:
        live = live_command(line)
        if live is not None:
            result.extend(expand(view, Command("Makefile", rule.line, live, job), depth + 1, seen))
    return result


def _hooks(view: RepoView, job: str) -> list[Command]:
    config = view.yaml_doc(PRE_COMMIT)
    return [
        Command(PRE_COMMIT, hook.line, f"{hook.get('id', '')} {hook.get('entry', '')}", job)
        for hook in pre_commit_hooks(config)
        if hook_runs(hook)
    ]


def pre_commit_hooks(config: Any) -> list[YamlMap]:
    """The hooks of a parsed `.pre-commit-config.yaml`."""
    repos = config.get("repos") if isinstance(config, YamlMap) else None
    hooks: list[YamlMap] = []
    for repo in repos if isinstance(repos, list) else []:
        listed = repo.get("hooks") if isinstance(repo, YamlMap) else None
        hooks.extend(h for h in (listed or []) if isinstance(h, YamlMap))
    return hooks


def _make_targets(text: str) -> list[str]:
    targets: list[str] = []
    for match in _MAKE.finditer(text):
        words = match.group(1).split()
        skip = False
        for word in words:
            if skip:
                skip = False
            elif word in ("-C", "-f", "-j", "--directory", "--file"):
                skip = True
            elif not word.startswith("-") and "=" not in word and "$" not in word:
                targets.append(word)
    return targets


def _scripts(view: RepoView, text: str) -> list[str]:
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        words = text.split()
    found: list[str] = []
    for word in words:
        name = word.removeprefix("./")
        if view.exists(name) and suffix(name) in _SCRIPT_SUFFIXES:
            if not name.startswith(WORKFLOW_DIR) and name not in found:
                found.append(name)
    return found


def _with_text(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    return "".join(f" {k}={v}" for k, v in value.items())
