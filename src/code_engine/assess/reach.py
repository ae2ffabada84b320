"""Which packages of a monorepo a CI command reaches (docs/assess-checks.md, "Monorepos").

A command reaches a package of its tool's ecosystem when one of its targets is in the
package (and not in a nested package of the same ecosystem), or is a directory above the
package and the tool walks into subdirectories. The targets are the command's path
arguments that exist in the repository, resolved from the directory it runs in; without
any, the directory itself, or, for pytest run from its configuration's directory, the
configuration's `testpaths`. `go test ./...` stops at a nested `go.mod` unless a `go.work`
uses that module; mocha and ava look only in their own `test/` directory.
"""

from __future__ import annotations

import posixpath
import re
import shlex

from code_engine.assess import sessions
from code_engine.assess.follow import Command, within
from code_engine.assess.model import Evidence
from code_engine.assess.monorepo import inside, owns
from code_engine.assess.polyglot import Package
from code_engine.assess.repo import RepoView

_ECOSYSTEM = (
    ("go", re.compile(r"\bgo\s|golangci-lint|staticcheck|-coverprofile|gosec")),
    ("javascript", re.compile(r"\b(jest|vitest|mocha|ava|eslint|biome|c8|nyc|tsc|node)\b")),
    ("python", re.compile(r"pytest|unittest|ruff|flake8|pylint|mypy|pyright|coverage|--cov")),
)
_NO_PACKAGE = re.compile(r"hadolint|actionlint")  # they lint Dockerfiles and workflows
_STAYS = re.compile(r"\b(mocha|ava)\b")  # runners that look in ./test only
_SEPARATOR = re.compile(r"&&|\|\||[;|]")
_GO_USE = re.compile(r"^\s*(?:use\s+)?\(?\s*(\.[^\s()]*)", re.MULTILINE)


def first_reaching(
    view: RepoView, commands: list[Command], pattern: re.Pattern[str], package: Package
) -> Evidence | None:
    """Evidence of the first command matching `pattern` that reaches `package`."""
    for command in commands:
        for match in pattern.finditer(command.text):
            if reaches(view, command, match, package):
                return Evidence(command.file, command.line, f"job {command.job}: {match.group(0)}")
    return None


def reaches(view: RepoView, command: Command, match: re.Match[str], package: Package) -> bool:
    tool = match.group(0)
    ecosystem = next((e for e, p in _ECOSYSTEM if p.search(tool)), None)
    if _NO_PACKAGE.search(tool):
        return False
    if ecosystem is not None and ecosystem != package.ecosystem:
        return False
    for target in _targets(view, command, match):
        if owns(view, package, target):
            return True
        if inside(target, package.directory) and not _STAYS.search(tool):
            if ecosystem != "go" or _go_workspace_uses(view, target, package):
                return True
    return False


def _targets(view: RepoView, command: Command, match: re.Match[str]) -> list[str]:
    """The repository paths the command works on (see the module's docstring), found once a
    command and tool (every package asks)."""
    known: dict[tuple[Command, int], list[str]] = view.memo("reach-targets", dict)
    key = (command, match.start())
    if key not in known:
        known[key] = _find_targets(view, command, match)
    return known[key]


def _find_targets(view: RepoView, command: Command, match: re.Match[str]) -> list[str]:
    start = max((m.end() for m in _SEPARATOR.finditer(command.text, 0, match.start())), default=0)
    end = _SEPARATOR.search(command.text, match.end())
    segment = command.text[start : end.start() if end else len(command.text)]
    after = segment[match.end() - start :] if not match.group(0).startswith("-") else segment
    try:
        words = shlex.split(after)
    except ValueError:
        words = after.split()
    if match.group(0).startswith("-"):
        words = words[1:]
    targets = []
    for word in words:
        if word.startswith("-") or "$" in word:
            continue
        path = _normal(within(command.cwd, word.removesuffix("/...").rstrip("/") or "."))
        if path is not None and (view.exists(path) or path in _directories(view)):
            targets.append(path)
    if targets:
        return targets
    if "pytest" in (segment if match.group(0).startswith("-") else match.group(0)):
        return _testpaths(view, command.cwd) or [command.cwd]
    return [command.cwd]


def _normal(path: str) -> str | None:
    if path == ".":
        return ""
    return None if path.startswith("..") or path.startswith("/") else path


def _directories(view: RepoView) -> frozenset[str]:
    def compute() -> frozenset[str]:
        found: set[str] = set()
        for parent in {name.rpartition("/")[0] for name in view.files}:
            while parent and parent not in found:
                found.add(parent)
                parent = parent.rpartition("/")[0]
        return frozenset(found)

    return view.memo("directories", compute)


def _testpaths(view: RepoView, cwd: str) -> list[str]:
    """pytest's `testpaths` when pytest runs in the directory of its configuration."""
    for base in ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
        name = within(cwd, base)
        if base == "pyproject.toml":
            data = view.toml(name)
            options = data.get("tool", {}).get("pytest", {}) if isinstance(data, dict) else {}
            ini = options.get("ini_options") if isinstance(options, dict) else None
            if not isinstance(ini, dict):
                continue
            paths = ini.get("testpaths", [])
            words = paths.split() if isinstance(paths, str) else [str(p) for p in paths]
        else:
            section = {"pytest.ini": "pytest", "tox.ini": "pytest"}.get(base, "tool:pytest")
            sections = sessions.parse_ini(view.text(name) or "")
            if section not in sections:
                continue
            lines = sections[section].get("testpaths", [])
            words = " ".join(line.text for line in lines).split()
        resolved = [_normal(within(cwd, w.rstrip("/"))) for w in words]
        return [p for p in resolved if p is not None]
    return []


def _go_workspace_uses(view: RepoView, target: str, package: Package) -> bool:
    """Whether a `go.work` at `target` or above it uses the package's module."""
    folder: str | None = target
    while folder is not None:
        name = within(folder, "go.work")
        text = view.text(name)
        if text is not None:
            uses = {posixpath.normpath(within(folder, m.group(1))) for m in _GO_USE.finditer(text)}
            return (package.directory or ".") in uses
        folder = None if not folder else folder.rpartition("/")[0]
    return False
