"""Disaster recovery: backups, scheduled backups, a restore runbook, RPO/RTO, recent drills."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from code_engine.assess import manifests
from code_engine.assess.checks import Checks, errors_as_evidence, limit
from code_engine.assess.manifests import dig
from code_engine.assess.model import Category, Evidence, Outcome, failed, passed
from code_engine.assess.parsers import ParseError, YamlMap
from code_engine.assess.pipelines import all_commands, workflows
from code_engine.assess.repo import RepoView, basename, directories, stem, suffix
from code_engine.assess.substance import script_does_something

checks = Checks(Category.DISASTER_RECOVERY, "dr")
DRILL_MAX_AGE = timedelta(days=90)
_SCRIPT_DIRS = frozenset({"scripts", "bin", "tools", "ops", "dr", ".ci"})
_RUNBOOK_WORDS = re.compile(r"restore|recovery|disaster|(^|[-_])dr([-_.]|$)")
_OBJECTIVE = re.compile(
    r"\b(RPO|RTO)\b\W{0,5}(?:[^\d\n]{0,20})(\d+(?:\.\d+)?)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)\b",
    re.IGNORECASE,
)
_DATE = re.compile(r"(20\d\d)-(\d\d)-(\d\d)")
_SUCCESS = ("passed", "pass", "succeeded", "success", "ok", "completed")


def _backup_cronjobs(view: RepoView) -> list[Evidence]:
    jobs, _ = manifests.find(view, "CronJob")
    return [
        Evidence(j.file, j.line, f"CronJob {j.name} at {dig(j.doc, 'spec', 'schedule')}")
        for j in jobs
        if "backup" in j.name.lower() or "backup" in str(dig(j.doc, "spec", "jobTemplate")).lower()
    ]


def _is_backup_script(name: str) -> bool:
    if "backup" not in basename(name).lower():
        return False
    return suffix(name) in (".sh", ".bash") or bool(_SCRIPT_DIRS.intersection(directories(name)))


@checks.add(
    "backup",
    1,
    "Backups are scripted",
    target="scripts/backup.sh",
    why="A backup that needs a person to remember the steps will not be taken at 3 a.m.",
    fix="Add a backup script (`scripts/backup.sh`, a `dr-backup` make target or "
    "`codectl dr backup`) or a backup `CronJob`.",
)
def backup(view: RepoView) -> Outcome:
    scripts = [
        f
        for f in view.files
        if "backup" in f.lower()
        and _is_backup_script(f)
        and script_does_something(view.text(f) or "")
    ]
    if scripts:
        return passed("backup script", *limit(Evidence(f, 1) for f in scripts))
    targets = [(t, r.line) for t, r in view.makefile().items() if "backup" in t]
    if targets:
        return passed("backup make target", *(Evidence("Makefile", line, t) for t, line in targets))
    jobs = _backup_cronjobs(view)
    if jobs:
        return passed("backup CronJob", *limit(jobs))
    return failed("no backup script, make target or CronJob")


@checks.add(
    "scheduled-backup",
    2,
    "Backups run on a schedule",
    target="deploy/k8s/base/backup-cronjob.yaml",
    why="The seed asks for automated daily backups; unscheduled backups age silently.",
    fix='Add a backup `CronJob` (`schedule: "0 2 * * *"`) or a scheduled workflow '
    "(`on: schedule`) that runs the backup.",
)
def scheduled_backup(view: RepoView) -> Outcome:
    jobs = _backup_cronjobs(view)
    if jobs:
        return passed("backup CronJob", *limit(jobs))
    found, _ = workflows(view)
    scheduled = {wf.file for wf in found if "schedule" in wf.triggers}
    for command in all_commands(view):
        if _in_workflow(command.job, command.file, scheduled, found) and "backup" in command.text:
            return passed(
                "scheduled backup workflow", Evidence(command.file, command.line, command.text[:60])
            )
    return failed("no scheduled backup (CronJob or scheduled workflow)")


def _in_workflow(job: str, file: str, scheduled: set[str], found: list[Any]) -> bool:
    # a command expanded from a script keeps its job; find the workflow owning that job
    return any(wf.file in scheduled and job in wf.jobs for wf in found) or file in scheduled


def _runbooks(view: RepoView) -> list[str]:
    return [
        f
        for f in view.with_suffix(".md")
        if ("runbook" in f.lower() or f.startswith("docs/"))
        and _RUNBOOK_WORDS.search(stem(f).lower())
    ]


@checks.add(
    "restore-runbook",
    1,
    "A restore runbook lists the steps",
    target="docs/runbooks/restore.md",
    why="During an outage nobody should have to work out the restore from the code.",
    fix="Write `docs/runbooks/restore.md`: a heading, numbered steps and the commands to run.",
)
def restore_runbook(view: RepoView) -> Outcome:
    from markdown_it import MarkdownIt

    parser = MarkdownIt()
    for name in _runbooks(view):
        tokens = parser.parse(view.text(name) or "")
        kinds = {t.type for t in tokens}
        if "heading_open" in kinds and kinds & {"ordered_list_open", "fence", "code_block"}:
            return passed("restore runbook with steps", Evidence(name, 1))
    names = _runbooks(view)
    if names:
        return failed(
            "the runbook has no heading with numbered steps or commands", Evidence(names[0], 1)
        )
    return failed("no restore or disaster-recovery runbook in docs/")


@checks.add(
    "objectives",
    2,
    "RPO and RTO are declared",
    target="docs/runbooks/restore.md",
    why="Without recovery objectives nobody can tell whether a backup schedule is good enough.",
    fix="State `RPO: 1 hour` and `RTO: 4 hours` in the restore runbook (or `rpo`/`rto` keys in "
    "`code.yaml`).",
)
def objectives(view: RepoView) -> Outcome:
    found: dict[str, Evidence] = {}
    for name in _runbooks(view):
        for number, line in enumerate((view.text(name) or "").splitlines(), start=1):
            for match in _OBJECTIVE.finditer(line):
                key = match.group(1).upper()
                found.setdefault(key, Evidence(name, number, match.group(0).strip()))
    spec = view.yaml_doc("code.yaml")
    for key in ("RPO", "RTO"):
        key_line = _yaml_key_line(spec, key.lower())
        if key_line and key not in found:
            found[key] = Evidence("code.yaml", key_line, f"{key.lower()} declared")
    missing = [k for k in ("RPO", "RTO") if k not in found]
    if missing:
        return failed(f"{' and '.join(missing)} not declared", *found.values())
    return passed("RPO and RTO declared", *found.values())


def _yaml_key_line(doc: object, key: str) -> int | None:
    if isinstance(doc, YamlMap):
        for k in doc:
            if str(k).lower() == key:
                return doc.line_of(k)
            line = _yaml_key_line(doc[k], key)
            if line:
                return line
    return None


@checks.add(
    "drill",
    3,
    "A restore drill succeeded in the last 90 days",
    target="docs/runbooks/restore.md",
    why="A backup is only proven by restoring it; the seed asks for monthly drills.",
    fix="Run `codectl dr drill` (or let the worker run its drill schedule): CODE records "
    "each drill. Without CODE's records, a file `docs/dr/drills/YYYY-MM-DD.md` is read.",
)
def drill(view: RepoView) -> Outcome:
    cutoff = view.now - DRILL_MAX_AGE
    if view.drills is not None:
        # CODE's own records exist: they are the evidence; a file claiming a drill is not
        known = [d for d in view.drills if cutoff <= d <= view.now]
        if known:
            return passed(
                "recent drill recorded by CODE", Evidence(note=f"drill on {max(known):%Y-%m-%d}")
            )
        return failed(
            "no passed drill recorded by CODE in the last 90 days "
            "(files claiming drills do not count where CODE keeps records)"
        )
    records: list[tuple[datetime, Evidence]] = []
    errors: list[ParseError] = []
    for name in _drill_files(view):
        when = _drill_date(view, name, errors)
        if when is not None:
            records.append((when, Evidence(name, 1, f"drill on {when:%Y-%m-%d}")))
    future = [
        Evidence(e.file, e.line, f"dated in the future: {when:%Y-%m-%d}")
        for when, e in records
        if when > view.now
    ]
    records = [(when, e) for when, e in records if when <= view.now]
    recent = [e for when, e in records if when >= cutoff]
    if recent:
        return passed("recent drill record", *limit(recent))
    stale = [e for _, e in sorted(records, key=lambda r: r[0])[-1:]]
    return failed(
        "no successful drill in the last 90 days",
        *stale,
        *future,
        *errors_as_evidence(errors),
    )


def _drill_files(view: RepoView) -> list[str]:
    return [
        f
        for f in view.with_suffix(".md", ".json", ".yaml", ".yml")
        if "drill" in f.lower() and ("drills" in directories(f) or "drill" in stem(f).lower())
    ]


def _drill_date(view: RepoView, name: str, errors: list[ParseError]) -> datetime | None:
    if not (view.text(name) or "").strip():
        return None  # an empty record proves nothing
    record: Any = None
    if name.endswith(".json"):
        record = view.json(name)
    elif name.endswith((".yaml", ".yml")):
        record = view.yaml_doc(name)
    if isinstance(record, ParseError):
        errors.append(record)
        return None
    if isinstance(record, dict):
        outcome = str(record.get("result", record.get("status", "passed"))).lower()
        if outcome not in _SUCCESS:
            return None
        for key in ("date", "completed_at", "finished_at", "started_at"):
            when = _as_datetime(record.get(key))
            if when is not None:
                return when
    match = _DATE.search(basename(name))
    return _as_datetime(match.group(0)) if match else None


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if hasattr(value, "isoformat") and not isinstance(value, str):
        value = value.isoformat()  # a YAML date
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


CHECKS = tuple(checks.all)
