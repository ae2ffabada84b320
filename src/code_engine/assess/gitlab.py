"""What GitLab CI runs: the jobs of `.gitlab-ci.yml` (and its `include: local` files), each
`script` line that runs on push or merge request, taken on by `follow` to what it runs.

A job does not count when it never runs on its own (`when: never`, `when: manual`, only
tags, every rule `when: never`), when its failure is ignored (`allow_failure: true`), or
when it is hidden (`.name`, a template for `extends`). `after_script` failures never fail a
job, so those lines do not count either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from code_engine.assess.follow import Command, expand, shell_directories
from code_engine.assess.parsers import ParseError, YamlMap, YamlSeq
from code_engine.assess.repo import RepoView
from code_engine.assess.substance import live_lines

GITLAB_CI = ".gitlab-ci.yml"
_KEYWORDS = frozenset(
    {"stages", "variables", "default", "include", "workflow", "image", "services", "cache"}
    | {"before_script", "after_script", "types"}
)


@dataclass(frozen=True)
class Job:
    name: str
    file: str
    node: YamlMap


def pipeline(view: RepoView) -> tuple[YamlMap | None, list[Job], list[ParseError]]:
    """The main `.gitlab-ci.yml`, its jobs (with local includes) and parse errors."""
    doc = view.yaml_doc(GITLAB_CI)
    if isinstance(doc, ParseError):
        return None, [], [doc]
    if not isinstance(doc, YamlMap):
        return None, [], []
    jobs: list[Job] = []
    errors: list[ParseError] = []
    for file, part in [(GITLAB_CI, doc), *_includes(view, doc, errors)]:
        jobs.extend(
            Job(str(name), file, node)
            for name, node in part.items()
            if isinstance(node, YamlMap) and str(name) not in _KEYWORDS
        )
    return doc, jobs, errors


def _includes(view: RepoView, doc: YamlMap, errors: list[ParseError]) -> list[tuple[str, YamlMap]]:
    listed = doc.get("include")
    items = listed if isinstance(listed, list) else [listed] if listed else []
    found: list[tuple[str, YamlMap]] = []
    for item in items:
        local = item.get("local") if isinstance(item, dict) else item
        if not isinstance(local, str) or "://" in local:
            continue
        name = local.lstrip("/")
        part = view.yaml_doc(name)
        if isinstance(part, ParseError):
            errors.append(part)
        elif isinstance(part, YamlMap):
            found.append((name, part))
    return found


def runs_on_push_or_merge_request(doc: YamlMap) -> bool:
    """Without `workflow: rules` a pipeline runs on every push and merge request; with them,
    at least one rule must not be `when: never`."""
    workflow = doc.get("workflow")
    rules = workflow.get("rules") if isinstance(workflow, dict) else None
    if not isinstance(rules, list):
        return True
    return any(isinstance(r, dict) and r.get("when") != "never" for r in rules)


def _resolved(job: Job, jobs: dict[str, Job], key: str) -> tuple[str, Any]:
    """A key of the job or, through `extends`, of the templates it extends."""
    node, seen = job, {job.name}
    while True:
        if key in node.node:
            return node.file, node.node
        parents = node.node.get("extends")
        parent = parents[-1] if isinstance(parents, list) and parents else parents
        if not isinstance(parent, str) or parent in seen or parent not in jobs:
            return job.file, None
        seen.add(parent)
        node = jobs[parent]


def job_runs(job: Job, jobs: dict[str, Job]) -> bool:
    if job.name.startswith("."):
        return False
    _, holder = _resolved(job, jobs, "when")
    if holder is not None and holder.get("when") in ("never", "manual"):
        return False
    _, holder = _resolved(job, jobs, "allow_failure")
    if holder is not None and holder.get("allow_failure") is True:
        return False
    _, holder = _resolved(job, jobs, "only")
    only = holder.get("only") if holder is not None else None
    if isinstance(only, list) and only and all(str(o) == "tags" for o in only):
        return False
    _, holder = _resolved(job, jobs, "rules")
    rules = holder.get("rules") if holder is not None else None
    if isinstance(rules, list) and rules:
        return any(isinstance(r, dict) and r.get("when") not in ("never", "manual") for r in rules)
    return True


def job_commands(view: RepoView, job: Job, jobs: dict[str, Job], default: Any) -> list[Command]:
    """The live lines of the job's `before_script` and `script`, each at its own line."""
    commands: list[Command] = []
    cwd = ""  # the shell of a job keeps its directory from line to line
    followed: set[str] = set()
    for key in ("before_script", "script"):
        file, holder = _resolved(job, jobs, key)
        if holder is None and key == "before_script" and isinstance(default, YamlMap):
            file, holder = GITLAB_CI, default
        lines = holder.get(key) if holder is not None else None
        if isinstance(lines, str):
            lines = YamlSeq([lines])
            lines.line = holder.line_of(key) if holder is not None else 1
        for index, text in enumerate(lines if isinstance(lines, list) else []):
            if not isinstance(text, str):
                continue
            first = lines.line_at(index) if isinstance(lines, YamlSeq) else 1
            first += 1 if "\n" in text.rstrip() else 0
            places = shell_directories(text, first, cwd)
            for number, live in live_lines(text, first):
                command = Command(file, number, live, job.name, places.get(number, cwd))
                commands.extend(expand(view, command, depth=0, seen=followed))
            cwd = places[max(places)] if places else cwd
    return commands


def commands(view: RepoView) -> list[Command]:
    """Every command of the jobs that run on push or merge request (computed once per view)."""

    def compute() -> list[Command]:
        doc, found, _ = pipeline(view)
        if doc is None or not runs_on_push_or_merge_request(doc):
            return []
        jobs = {job.name: job for job in found}
        default = doc.get("default")
        defaults = default if isinstance(default, YamlMap) else None
        if defaults is None and "before_script" in doc:
            defaults = doc
        return [
            c
            for job in found
            if job_runs(job, jobs)
            for c in job_commands(view, job, jobs, defaults)
        ]

    return view.memo("gitlab-commands", compute)
