"""Supply-chain checks with OpenSSF Scorecard's meanings, read from the repository's files:
Dangerous-Workflow, Token-Permissions, Pinned-Dependencies, Binary-Artifacts,
Dependency-Update-Tool and License. (Security-Policy is `sec.security-policy`;
Branch-Protection and Code-Review need the GitHub API: `checks/hosting.py`.)
"""

from __future__ import annotations

import re
from typing import Any

from code_engine.assess.checks import Checks, limit
from code_engine.assess.model import (
    Category,
    Evidence,
    Outcome,
    failed,
    not_applicable,
    passed,
)
from code_engine.assess.parsers import YamlMap
from code_engine.assess.pipelines import Workflow, workflows
from code_engine.assess.repo import RepoView, basename, suffix

security = Checks(Category.SECURITY, "sec")
source_control = Checks(Category.SOURCE_CONTROL, "scm")

# Scorecard's untrusted contexts: text an outsider controls, unsafe inside a `run:` script
_UNTRUSTED = re.compile(
    r"\$\{\{[^}]*?\b(github\.event\.(?:issue\.(?:title|body)"
    r"|pull_request\.(?:title|body|head\.(?:ref|label|repo\.default_branch))"
    r"|(?:comment|review|review_comment|discussion|discussion_comment)\.body"
    r"|pages\.[\w*\[\]]*\.?page_name|commits\.[\w*\[\]]*\.?(?:message|author\.(?:email|name))"
    r"|head_commit\.(?:message|author\.(?:email|name))"
    r"|workflow_run\.(?:head_branch|head_commit\.\w+|pull_requests\.[\w*\[\]]*\.?head\.ref))"
    r"|github\.head_ref)\b"
)
_PR_HEAD = re.compile(r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref")
_SHA = re.compile(r"@[0-9a-f]{40}$")
_READ_ONLY = frozenset({"read", "none"})
_BINARY = frozenset(
    ".crx .deb .dex .dey .elf .o .a .so .macho .iso .class .jar .bundle .dylib .lib .msi .dll"
    " .drv .efi .exe .ocx .pyc .pyo .par .rpm .wasm .whl .war .ear .apk".split()
)
_ALLOWED_BINARIES = ("gradle/wrapper/gradle-wrapper.jar",)
_REQUIREMENT = re.compile(r"^\s*[A-Za-z0-9][\w.\-\[\], ]*\s*(?:[=<>!~;@]|$)")
_PIP_INSTALL = re.compile(r"\bpip3?\s+install\b(.*)")
LICENSE_NAMES = ("LICENSE", "LICENCE", "COPYING")
_SPDX = (
    ("Apache-2.0", re.compile(r"Apache License,?\s+Version 2\.0", re.I)),
    ("MIT", re.compile(r"\bMIT License\b|Permission is hereby granted, free of charge", re.I)),
    ("GPL-3.0", re.compile(r"GNU GENERAL PUBLIC LICENSE\s+Version 3", re.I)),
    ("BSD-3-Clause", re.compile(r"Neither the name of", re.I)),
    ("MPL-2.0", re.compile(r"Mozilla Public License,? (?:Version|v\.?) 2\.0", re.I)),
)


def _steps(workflow: Workflow) -> list[tuple[str, YamlMap]]:
    found: list[tuple[str, YamlMap]] = []
    for job_id, job in workflow.jobs.items():
        steps = job.get("steps")
        found.extend((job_id, s) for s in steps or [] if isinstance(s, YamlMap))
    return found


@security.add(
    "dangerous-workflow",
    1,
    "No workflow runs untrusted code or text with the repository's rights (Dangerous-Workflow)",
    target=".github/workflows/ci.yml",
    why="`pull_request_target` with a checkout of the PR head runs a stranger's code with "
    "secrets; `${{ github.event.issue.title }}` inside `run:` lets anyone inject shell.",
    fix="Check out the PR head only under `pull_request`; pass untrusted text to `run:` "
    'through `env:` (`TITLE: ${{ github.event.issue.title }}` then `"$TITLE"`).',
)
def dangerous_workflow(view: RepoView) -> Outcome:
    found, _ = workflows(view)
    if not found:
        return not_applicable("no GitHub Actions workflows")
    problems: list[Evidence] = []
    for wf in found:
        privileged = wf.triggers & {"pull_request_target", "workflow_run"}
        for job_id, step in _steps(wf):
            uses, with_ = step.get("uses"), step.get("with")
            ref = with_.get("ref") if isinstance(with_, dict) else None
            if (
                privileged
                and isinstance(uses, str)
                and uses.startswith("actions/checkout")
                and isinstance(ref, str)
                and _PR_HEAD.search(ref)
            ):
                note = f"job {job_id}: {sorted(privileged)[0]} checks out the PR head ({ref})"
                problems.append(Evidence(wf.file, step.line_of("with"), note))
            run = step.get("run")
            if isinstance(run, str) and (match := _UNTRUSTED.search(run)):
                line = step.line_of("run") + run.count("\n", 0, match.start())
                line += 1 if "\n" in run.rstrip("\n") else 0
                note = f"job {job_id}: untrusted `{match.group(1)}` expanded inside run:"
                problems.append(Evidence(wf.file, line, note))
    if problems:
        return failed("a workflow runs untrusted code or text", *limit(problems))
    return passed(f"{len(found)} workflows, no dangerous pattern")


@security.add(
    "token-permissions",
    2,
    "Workflows give the GITHUB_TOKEN read-only rights by default (Token-Permissions)",
    target=".github/workflows/ci.yml",
    why="A compromised step can only do what the token allows; write rights by default let "
    "it push code or publish releases.",
    fix="Add `permissions: read-all` (or `contents: read`) at the top of every workflow and "
    "grant a write scope only to the job that needs it.",
)
def token_permissions(view: RepoView) -> Outcome:
    found, _ = workflows(view)
    if not found:
        return not_applicable("no GitHub Actions workflows")
    problems: list[Evidence] = []
    for wf in found:
        if "permissions" not in wf.doc:
            problems.append(Evidence(wf.file, 1, "no top-level permissions: (write by default)"))
        elif not _read_only(wf.doc["permissions"]):
            line = wf.doc.line_of("permissions")
            problems.append(Evidence(wf.file, line, "top-level permissions grant write"))
        for job_id, job in wf.jobs.items():
            if job.get("permissions") == "write-all":
                line = job.line_of("permissions")
                problems.append(Evidence(wf.file, line, f"job {job_id}: write-all"))
    if problems:
        return failed("a workflow's token can write by default", *limit(problems))
    return passed(f"{len(found)} workflows with read-only top-level permissions")


def _read_only(value: Any) -> bool:
    if value in ("read-all", None) or value == {}:
        return True
    if isinstance(value, dict):
        return all(str(v) in _READ_ONLY for v in value.values())
    return False


@security.add(
    "pinned-dependencies",
    3,
    "Actions, images and pip installs are pinned by hash (Pinned-Dependencies)",
    target=".github/workflows/ci.yml",
    why="A tag or version can be moved to malicious code; a commit SHA, an image digest or a "
    "`--hash` cannot.",
    fix="Pin actions to a full commit SHA (`uses: actions/checkout@<40 hex> # v4`), images by "
    "`@sha256:` digest and pip requirements with `--hash=sha256:` (`pip-compile "
    "--generate-hashes`).",
)
def pinned_dependencies(view: RepoView) -> Outcome:
    checked: list[int] = []
    problems = [
        *_unpinned_in_workflows(view, checked),
        *_unpinned_images(view, checked),
        *_unhashed_requirement_files(view, checked),
    ]
    if not checked:
        return not_applicable("no actions, images or pip requirements to pin")
    if problems:
        return failed("dependencies pinned by tag or version", *limit(problems))
    return passed(f"{len(checked)} actions, images and requirement files pinned by hash")


def _unpinned_in_workflows(view: RepoView, checked: list[int]) -> list[Evidence]:
    found, _ = workflows(view)
    problems: list[Evidence] = []
    for wf in found:
        for job_id, step in _steps(wf):
            uses = step.get("uses")
            if isinstance(uses, str) and not uses.startswith(("./", "docker://")):
                checked.append(1)
                if not _SHA.search(uses):
                    line = step.line_of("uses")
                    problems.append(Evidence(wf.file, line, f"job {job_id}: {uses} by tag"))
            run = step.get("run")
            if not isinstance(run, str):
                continue
            first = step.line_of("run") + (1 if "\n" in run.rstrip() else 0)
            for offset, text in enumerate(run.splitlines()):
                if _unpinned_pip(text):
                    checked.append(1)
                    note = f"job {job_id}: {text.strip()}"
                    problems.append(Evidence(wf.file, first + offset, note))
    return problems


def _unpinned_images(view: RepoView, checked: list[int]) -> list[Evidence]:
    problems: list[Evidence] = []
    for name in view.named("Dockerfile") + view.with_suffix(".dockerfile"):
        stages = view.dockerfile(name)
        if not isinstance(stages, tuple):
            continue
        aliases = {s.alias for s in stages if s.alias}
        for stage in stages:
            if stage.base in aliases or stage.base == "scratch":
                continue
            checked.append(1)
            if "@sha256:" not in stage.base:
                problems.append(Evidence(name, stage.line, f"FROM {stage.base} by tag"))
    return problems


def _unhashed_requirement_files(view: RepoView, checked: list[int]) -> list[Evidence]:
    problems: list[Evidence] = []
    for name in _requirement_files(view):
        unhashed = _unhashed_requirements(view.text(name) or "")
        checked.append(1)
        if unhashed:
            problems.append(Evidence(name, unhashed[0], f"{len(unhashed)} requirements unhashed"))
    return problems


def _unpinned_pip(line: str) -> bool:
    match = _PIP_INSTALL.search(line)
    if match is None:
        return False
    words = match.group(1).split()
    if "--require-hashes" in words or any(w in ("-r", "--requirement", "-c") for w in words):
        return False
    packages = [w for w in words if not w.startswith("-") and w not in (".", "-e")]
    return any(not w.startswith((".", "/")) for w in packages)


def _requirement_files(view: RepoView) -> list[str]:
    return [
        f
        for f in view.with_suffix(".txt", ".lock", ".in")
        if basename(f).startswith("requirements") and suffix(f) != ".in"
    ]


def _unhashed_requirements(text: str) -> list[int]:
    lines: list[int] = []
    for number, logical in _requirement_lines(text):
        stripped = logical.strip()
        if not stripped or stripped.startswith(("#", "-")):
            continue
        if _REQUIREMENT.match(stripped) and "--hash=" not in stripped:
            lines.append(number)
    return lines


def _requirement_lines(text: str) -> list[tuple[int, str]]:
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        current = (pending[0], pending[1] + " " + raw) if pending else (number, raw)
        if raw.rstrip().endswith("\\"):
            pending = (current[0], current[1].rstrip()[:-1])
            continue
        joined.append(current)
        pending = None
    return joined


@security.add(
    "binary-artifacts",
    2,
    "No executables or compiled binaries are committed (Binary-Artifacts)",
    target=".gitignore",
    why="A committed binary cannot be reviewed and may not match its source.",
    fix="Remove the binaries from git, build them in CI, and ignore them in `.gitignore`.",
)
def binary_artifacts(view: RepoView) -> Outcome:
    found = [
        Evidence(name, None, "binary artifact")
        for name in view.files
        if suffix(name).lower() in _BINARY and not name.endswith(_ALLOWED_BINARIES)
    ]
    if found:
        return failed(f"{len(found)} binary artifacts in git", *limit(found))
    return passed("no binary artifacts")


@security.add(
    "dependency-update-tool",
    2,
    "A tool proposes dependency updates (Dependency-Update-Tool)",
    target=".github/dependabot.yml",
    why="Known-vulnerable versions linger unless a bot opens the update pull requests.",
    fix="Add `.github/dependabot.yml` with an `updates:` entry per ecosystem (pip, "
    "github-actions, docker), or a Renovate configuration (`renovate.json`).",
)
def dependency_update_tool(view: RepoView) -> Outcome:
    name = view.first(".github/dependabot.yml", ".github/dependabot.yaml")
    if name is not None:
        doc = view.yaml_doc(name)
        updates = doc.get("updates") if isinstance(doc, YamlMap) else None
        if isinstance(updates, list) and updates:
            ecosystems = [str(u.get("package-ecosystem")) for u in updates if isinstance(u, dict)]
            return passed(f"Dependabot: {', '.join(ecosystems)}", Evidence(name, doc.line))
        return failed("dependabot.yml has no updates", Evidence(name, 1, "no `updates:` entry"))
    for renovate in _renovate_files(view):
        config = view.json(renovate, comments=True)
        if isinstance(config, dict) and config.get("enabled", True) is not False:
            return passed("Renovate", Evidence(renovate, 1))
        return failed("Renovate is disabled", Evidence(renovate, 1, '"enabled": false'))
    return failed("no Dependabot or Renovate configuration")


def _renovate_files(view: RepoView) -> list[str]:
    names = (
        "renovate.json",
        "renovate.json5",
        ".github/renovate.json",
        ".github/renovate.json5",
        ".gitlab/renovate.json",
        ".renovaterc",
        ".renovaterc.json",
    )
    return [n for n in names if view.exists(n)]


@source_control.add(
    "license",
    1,
    "The repository has a license (License)",
    target="LICENSE",
    why="Without a license nobody may legally use, change or share the code.",
    fix="Add a `LICENSE` file with the full text of an OSI-approved license.",
)
def license_file(view: RepoView) -> Outcome:
    candidates = [
        f
        for f in view.files
        if "/" not in f and f.split(".")[0].upper() in LICENSE_NAMES or f.startswith("LICENSES/")
    ]
    for name in sorted(candidates):
        text = view.text(name) or ""
        if len(text.strip()) >= 20:
            spdx = next((spdx for spdx, pattern in _SPDX if pattern.search(text)), None)
            return passed(f"license {spdx or 'file'}", Evidence(name, 1, spdx or ""))
    if candidates:
        return failed("the license file is empty", Evidence(sorted(candidates)[0], 1))
    return failed("no LICENSE file")


SECURITY_CHECKS = tuple(security.all)
SOURCE_CONTROL_CHECKS = tuple(source_control.all)
