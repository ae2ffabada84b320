"""Development environment: declared and locked dependencies, hooks, devcontainer, compose."""

from __future__ import annotations

import re
from typing import Any

from code_engine.assess import polyglot
from code_engine.assess.checks import Checks, errors_as_evidence, limit
from code_engine.assess.model import (
    Category,
    Evidence,
    Outcome,
    Status,
    failed,
    not_applicable,
    passed,
)
from code_engine.assess.parsers import ParseError, YamlMap
from code_engine.assess.pipelines import PRE_COMMIT, pre_commit_hooks
from code_engine.assess.polyglot import Package
from code_engine.assess.repo import RepoView
from code_engine.assess.substance import hook_runs, hook_text

checks = Checks(Category.DEVELOPMENT_ENVIRONMENT, "dev")
LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "pylock.toml",
    "go.sum",
    "package-lock.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "bun.lock",
)
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
DEVCONTAINER_FILES = (".devcontainer/devcontainer.json", ".devcontainer.json")
HOOK_KINDS = {
    "formatting": re.compile(r"\b(black|isort|autopep8|yapf)\b|ruff[- ]format"),
    "linting": re.compile(r"\b(flake8|pylint)\b|\bruff\b(?![- ]format)"),
    "type checking": re.compile(r"\b(mypy|pyright|pytype)\b"),
    "security linting": re.compile(r"\b(bandit|semgrep|detect-secrets|gitleaks|trufflehog)\b"),
}
_PINNED = re.compile(r"^[A-Za-z0-9._\[\],-]+\s*===?\s*[^\s;,]+|--hash=")


@checks.add(
    "dependencies",
    1,
    "Dependencies are declared in a package manifest",
    target="pyproject.toml",
    why="A declared dependency list is what every environment, image and scan starts from.",
    fix="Declare the package and its dependencies in `pyproject.toml` under `[project]` "
    "(`name`, `dependencies`); `setup.cfg`, `setup.py`, uv workspace members, `go.mod` and "
    "`package.json` count too.",
)
def dependencies(view: RepoView) -> Outcome:
    data = view.toml("pyproject.toml")
    if isinstance(data, ParseError):
        return failed("pyproject.toml is not valid TOML", *errors_as_evidence([data]))
    project = (data.get("project") or data.get("tool", {}).get("poetry")) if data else None
    if not (isinstance(project, dict) and "name" in project):
        others = polyglot.manifests(view)
        if others:
            return passed(f"{len(others)} package manifests declare dependencies", *limit(others))
    if data is None:
        requirements = view.first("requirements.txt", "requirements.in")
        if requirements:
            return failed(
                f"dependencies only in {requirements}",
                Evidence(requirements, 1),
                remediation="Move them to `[project] dependencies` in a `pyproject.toml`.",
            )
        return failed("no pyproject.toml")
    project = data.get("project") or data.get("tool", {}).get("poetry")
    if not isinstance(project, dict) or "name" not in project:
        return failed("pyproject.toml has no [project] table", Evidence("pyproject.toml", 1))
    count = len(project.get("dependencies") or [])
    return passed(f"pyproject.toml declares {count} dependencies", Evidence("pyproject.toml", 1))


@checks.per_package("dependencies")
def package_dependencies(view: RepoView, package: Package) -> Outcome:
    """The package's manifest names the package and parses."""
    manifest = package.manifest
    if package.ecosystem == "go":
        text = view.text(manifest) or ""
        if re.search(r"^module\s+\S+", text, re.MULTILINE) is None:
            return failed(f"{manifest} declares no module", Evidence(manifest, 1))
        return passed(f"{manifest} declares its module", Evidence(manifest, 1))
    data = view.json(manifest) if package.ecosystem == "javascript" else view.toml(manifest)
    if isinstance(data, ParseError):
        return failed(f"{manifest} does not parse", *errors_as_evidence([data]))
    declared = data.get("project") if package.ecosystem == "python" and data else data
    if not (isinstance(declared, dict) and declared.get("name")):
        return failed(f"{manifest} names no package", Evidence(manifest, 1))
    count = len(declared.get("dependencies") or [])
    return passed(f"{manifest} declares {count} dependencies", Evidence(manifest, 1))


@checks.add(
    "pre-commit",
    1,
    "pre-commit hooks are configured",
    target=PRE_COMMIT,
    why="Hooks catch formatting, lint and secrets before a commit exists, not in review.",
    fix="Add `.pre-commit-config.yaml` with at least one hook and run `pre-commit install`.",
)
def pre_commit(view: RepoView) -> Outcome:
    config = view.yaml_doc(PRE_COMMIT)
    if config is None:
        return failed(f"no {PRE_COMMIT}")
    if isinstance(config, ParseError):
        return failed(f"{PRE_COMMIT} is not valid YAML", *errors_as_evidence([config]))
    listed = pre_commit_hooks(config)
    hooks = [h for h in listed if hook_runs(h)]
    if not hooks:
        hollow = [Evidence(PRE_COMMIT, h.line, f"hook {h.get('id')} runs nothing") for h in listed]
        return failed(
            f"{PRE_COMMIT} has no hook that runs a tool", Evidence(PRE_COMMIT, 1), *hollow
        )
    return passed(f"{len(hooks)} pre-commit hooks", Evidence(PRE_COMMIT, hooks[0].line))


@checks.add(
    "locked-dependencies",
    2,
    "Dependencies are locked",
    target="uv.lock",
    why="A lock file makes every install, image and CI run use the same versions.",
    fix="Commit a lock file: `uv lock` (uv.lock), `poetry lock`, or `uv pip compile "
    "pyproject.toml -o requirements.lock` with every requirement pinned `==`; `go.sum`, "
    "`package-lock.json`, `pnpm-lock.yaml` or `yarn.lock` for Go and JavaScript. In a "
    "monorepo every package needs one (beside it, or its workspace root's).",
)
def locked_dependencies(view: RepoView) -> Outcome:
    lock = view.first(*LOCK_FILES)
    if lock:
        return passed(f"{lock} locks the dependencies", Evidence(lock, 1))
    return _pinned_requirements(view, "")


def _pinned_requirements(view: RepoView, folder: str) -> Outcome:
    """A requirements file directly in `folder` that pins every requirement."""
    candidates = view.memo("requirements-files", lambda: _requirements_files(view)).get(folder, [])
    unpinned: list[Evidence] = []
    for name in candidates:
        lines = _requirement_lines(view.text(name) or "")
        loose = [(n, r) for n, r in lines if not _PINNED.search(r)]
        if lines and not loose:
            return passed(f"{name} pins every requirement", Evidence(name, 1))
        unpinned.extend(Evidence(name, n, f"not pinned: {r}") for n, r in loose[:3])
    return failed("no lock file and no fully pinned requirements file", *unpinned)


@checks.per_package("locked-dependencies")
def package_locked(view: RepoView, package: Package) -> Outcome:
    """Each package is locked: beside its manifest, by its workspace root, or by a fully
    pinned requirements file beside a Python manifest; nothing to lock is not applicable."""
    lock = polyglot.lock_of(view, package)
    if lock is not None:
        return passed(f"{lock} locks {package.manifest}", Evidence(lock, 1))
    if not _requires(view, package):
        return not_applicable(f"{package.manifest} declares no dependencies")
    if package.ecosystem == "python":
        pinned = _pinned_requirements(view, package.directory)
        if pinned.status is Status.PASS:
            return pinned
    return failed(
        f"{package.ecosystem}: no lock file",
        Evidence(package.manifest, 1, f"{package.ecosystem}: no lock file"),
    )


def _requires(view: RepoView, package: Package) -> bool:
    """Whether the package declares any dependency (a lock has something to lock)."""
    if package.ecosystem == "go":
        text = view.text(package.manifest) or ""
        return re.search(r"^\s*require\b", text, re.MULTILINE) is not None
    if package.ecosystem == "javascript":
        data = view.json(package.manifest)
        keys = ("dependencies", "devDependencies")
        return isinstance(data, dict) and any(data.get(k) for k in keys)
    data = view.toml(package.manifest)
    project = data.get("project") if isinstance(data, dict) else None
    keys = ("dependencies", "optional-dependencies")
    return isinstance(project, dict) and any(project.get(k) for k in keys)


def _requirements_files(view: RepoView) -> dict[str, list[str]]:
    """`requirements*.txt`/`.lock` files by directory, in listing order."""
    found: dict[str, list[str]] = {}
    for name in view.files:
        folder, _, base = name.rpartition("/")
        if base.startswith("requirements") and re.match(r"requirements.*\.(lock|txt)$", base):
            found.setdefault(folder, []).append(name)
    return found


def _requirement_lines(text: str) -> list[tuple[int, str]]:
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-", "--")):
            result.append((number, line))
    return result


@checks.add(
    "pre-commit-coverage",
    2,
    "pre-commit formats, lints, type-checks and security-lints",
    target=PRE_COMMIT,
    why="The four hook kinds together keep style debates, type errors and risky code out of PRs.",
    fix="In `.pre-commit-config.yaml` add hooks for formatting (ruff-format or black), linting "
    "(ruff or flake8), type checking (mypy) and security (bandit or detect-secrets).",
)
def pre_commit_coverage(view: RepoView) -> Outcome:
    config = view.yaml_doc(PRE_COMMIT)
    if not isinstance(config, YamlMap):
        problem = errors_as_evidence([config]) if isinstance(config, ParseError) else ()
        return failed(f"no usable {PRE_COMMIT}", *problem)
    hooks = pre_commit_hooks(config)
    found: dict[str, Evidence] = {}
    for hook in hooks:
        text = hook_text(hook).lower()
        for kind, pattern in HOOK_KINDS.items():
            if kind not in found and pattern.search(text):
                found[kind] = Evidence(PRE_COMMIT, hook.line, f"{kind}: {hook.get('id')}")
    missing = [k for k in HOOK_KINDS if k not in found]
    if missing:
        return failed(
            f"pre-commit has no {', '.join(missing)} hook",
            *found.values(),
            remediation=f"Add {', '.join(missing)} hooks to `{PRE_COMMIT}`.",
        )
    return passed("formatting, linting, type checking and security hooks", *found.values())


@checks.add(
    "devcontainer",
    3,
    "A devcontainer defines the development environment",
    target=".devcontainer/devcontainer.json",
    why="A devcontainer gives every contributor the same tools in one click or one command.",
    fix="Add `.devcontainer/devcontainer.json` naming an `image`, a `build.dockerfile` or a "
    "`dockerComposeFile` with its `service`.",
)
def devcontainer(view: RepoView) -> Outcome:
    names = [n for n in view.named("devcontainer.json") if n.startswith(".devcontainer")]
    if not names:
        return failed("no .devcontainer/devcontainer.json")
    for name in names:
        data = view.json(name, comments=True)
        if isinstance(data, ParseError):
            return failed(f"{name} is not valid JSON", *errors_as_evidence([data]))
        keys = [k for k in ("image", "build", "dockerFile", "dockerComposeFile") if _has(data, k)]
        if keys:
            return passed(f"{name} defines the environment via {keys[0]}", Evidence(name, 1))
    return failed(
        "the devcontainer names no image, Dockerfile or compose file", Evidence(names[0], 1)
    )


def _has(data: Any, key: str) -> bool:
    return isinstance(data, dict) and bool(data.get(key))


@checks.add(
    "compose-stack",
    3,
    "The whole stack starts with one compose command",
    target="docker-compose.yml",
    why="`docker compose up` starting the app and its backing services makes onboarding a minute.",
    fix="Add `docker-compose.yml` (or `compose.yaml`) with a service per process, each with an "
    "`image` or a `build`, so `docker compose up` starts everything.",
)
def compose_stack(view: RepoView) -> Outcome:
    name = view.first(*COMPOSE_FILES)
    if name is None:
        return failed("no compose file at the repository root")
    doc = view.yaml_doc(name)
    if isinstance(doc, ParseError):
        return failed(f"{name} is not valid YAML", *errors_as_evidence([doc]))
    services = doc.get("services") if isinstance(doc, YamlMap) else None
    if not isinstance(services, YamlMap) or not services:
        return failed(f"{name} defines no services", Evidence(name, 1))
    broken = [
        Evidence(name, services.line_of(s), f"service {s} has neither image nor build")
        for s, spec in services.items()
        if not (isinstance(spec, dict) and (spec.get("image") or spec.get("build")))
    ]
    if broken:
        return failed("some compose services cannot start", *broken)
    return passed(f"{len(services)} compose services", Evidence(name, services.line))


CHECKS = tuple(checks.all)
