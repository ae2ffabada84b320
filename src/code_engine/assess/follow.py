"""Where a CI command leads: Make recipes (variables expanded), scripts, pre-commit hooks,
tox environments and nox sessions, each resolved from the command's working directory.

Every command found keeps the file and line that runs it, so evidence points there.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, replace
from typing import Any

from code_engine.assess import sessions
from code_engine.assess.parsers import ParseError, YamlMap, expand_make
from code_engine.assess.repo import RepoView, suffix
from code_engine.assess.substance import hook_runs, live_command, live_lines

PRE_COMMIT = ".pre-commit-config.yaml"
WORKFLOW_DIR = ".github/workflows/"
MAX_DEPTH = 5
MAX_FOLLOWED = 100_000  # commands followed per assessment: a hostile tree cannot blow it up
_MAKE = re.compile(r"(?:^|[\s;&|(])(?:g?make)\s+((?:[^\s;&|]+\s*)*)")
_TOX = re.compile(r"(?:^|[\s;&|/])tox(?:\s+(?:run|r|run-parallel|p))?((?:\s+[^\s;&|]+)*)")
_NOX = re.compile(r"(?:^|[\s;&|/])nox((?:\s+[^\s;&|]+)*)")
_NPM = re.compile(r"(?:^|[\s;&|])(?:npm|pnpm|yarn|bun)\s+(?:(?:run|run-script)\s+)?([\w:.-]+)")
_NPM_BUILTINS = frozenset({"install", "ci", "i", "add", "exec", "dlx", "x", "audit", "publish"})
_SCRIPT_SUFFIXES = ("", ".sh", ".bash", ".py")


@dataclass(frozen=True)
class Command:
    """One command CI runs (a `run:` line, a `uses:` action, or a line it leads to)."""

    file: str
    line: int
    text: str
    job: str
    cwd: str = ""  # the directory it runs in, relative to the repository root


def directory(base: str, relative: Any) -> str:
    """`relative` (a `working-directory` value) joined to `base`; expressions and escapes
    out of the repository fall back to `base`."""
    if not isinstance(relative, str) or "${{" in relative or relative.startswith("/"):
        return base
    joined = posixpath.normpath(posixpath.join(base, relative))
    if joined == "." or joined.startswith(".."):
        return "" if joined == "." else base
    return joined


_CD = re.compile(r"^\s*cd\s+([^\s;&|]+)\s*(?:$|&&|;)")


def shell_directories(text: str, first_line: int, cwd: str) -> dict[int, str]:
    """The directory each line of a shell block runs in, following `cd DIR` (alone on a line,
    or before `&&`/`;`), from `cwd`; a `cd` out of the repository or to a variable is ignored."""
    directories: dict[int, str] = {}
    for offset, raw in enumerate(text.splitlines()):
        match = _CD.match(raw)
        if match and "$" not in match.group(1):
            cwd = directory(cwd, match.group(1))
        directories[first_line + offset] = cwd
    return directories


def within(cwd: str, name: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, name)) if cwd else posixpath.normpath(name)


def expand(view: RepoView, command: Command, depth: int, seen: set[str]) -> list[Command]:
    """The command and, recursively, what it runs through make, scripts, pre-commit, tox, nox."""
    result = [command]
    budget = view.memo("follow-budget", lambda: [MAX_FOLLOWED])
    budget[0] -= 1
    if depth >= MAX_DEPTH or budget[0] <= 0:
        return result
    for makefile, target in _make_targets(command):
        result.extend(_recipe(view, makefile, target, command, depth, seen))
    for script in _scripts(view, command):
        if script not in seen:
            seen.add(script)
            for number, line in live_lines(view.text(script) or "", 1):
                inner = Command(script, number, line, command.job, command.cwd)
                result.extend(expand(view, inner, depth + 1, seen))
    if re.search(r"\bpre-commit\s+run\b", command.text) and PRE_COMMIT not in seen:
        seen.add(PRE_COMMIT)
        result.extend(_hooks(view, command.job))
    for match in _TOX.finditer(command.text):
        result.extend(_tox(view, command, match.group(1), depth, seen))
    for match in _NOX.finditer(command.text):
        result.extend(_nox(view, command, match.group(1), depth, seen))
    for match in _NPM.finditer(command.text):
        if match.group(1) not in _NPM_BUILTINS:
            result.extend(_package_script(view, command, match.group(1), depth, seen))
    return result


def _make_targets(command: Command) -> list[tuple[str, str]]:
    """(Makefile, target) pairs of the `make` calls in the command (`-C dir`, `-f file`)."""
    found: list[tuple[str, str]] = []
    for match in _MAKE.finditer(command.text):
        directory_, makefile, targets = command.cwd, "Makefile", []
        words = match.group(1).split()
        index = 0
        while index < len(words):
            word = words[index]
            value = words[index + 1] if index + 1 < len(words) else ""
            if word in ("-C", "--directory"):
                directory_, index = within(directory_, value), index + 1
            elif word in ("-f", "--file", "--makefile"):
                makefile, index = value, index + 1
            elif word.startswith("--directory="):
                directory_ = within(directory_, word.split("=", 1)[1])
            elif word == "-j":
                index += 1
            elif not word.startswith("-") and "=" not in word and "$" not in word:
                targets.append(word)
            index += 1
        path = within(directory_, makefile)
        found.extend((path, target) for target in targets)
    return found


def _recipe(
    view: RepoView, makefile: str, target: str, caller: Command, depth: int, seen: set[str]
) -> list[Command]:
    key = f"make:{makefile}:{target}"
    if key in seen or depth >= MAX_DEPTH:
        return []
    targets = view.makefile(makefile)
    if target not in targets:
        return []
    seen.add(key)
    rule = targets[target]
    variables = view.make_variables(makefile)
    cwd = posixpath.dirname(makefile)
    result: list[Command] = []
    for prerequisite in rule.prerequisites:
        result.extend(_recipe(view, makefile, prerequisite, caller, depth + 1, seen))
    for number, line in zip(rule.lines, rule.recipe, strict=False):
        live = live_command(expand_make(line, variables))
        if live is not None:
            inner = Command(makefile, number, live, caller.job, cwd)
            result.extend(expand(view, inner, depth + 1, seen))
    return result


def _scripts(view: RepoView, command: Command) -> list[str]:
    try:
        words = shlex.split(command.text, comments=True)
    except ValueError:
        words = command.text.split()
    found: list[str] = []
    for word in words:
        for name in (within(command.cwd, word), posixpath.normpath(word)):
            if name.startswith("..") or not view.exists(name):
                continue
            if suffix(name) in _SCRIPT_SUFFIXES and not name.startswith(WORKFLOW_DIR):
                if name not in found:
                    found.append(name)
            break
    return found


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


def _tox(view: RepoView, caller: Command, argv: str, depth: int, seen: set[str]) -> list[Command]:
    found = _tox_config(view, caller.cwd)
    if found is None:
        return []
    name, config = found
    lines = sessions.tox_commands(config, sessions.tox_environments(argv))
    return _inner(view, caller, name, lines, depth, seen)


def _tox_config(view: RepoView, cwd: str) -> tuple[str, sessions.IniSections] | None:
    for base in ("tox.ini", "setup.cfg"):
        name = within(cwd, base)
        text = view.text(name)
        if text is not None:
            config = sessions.parse_ini(text)
            if base == "tox.ini" or "tox:tox" in config:
                return name, config
    name = within(cwd, "pyproject.toml")
    text = view.text(name) or ""
    match = re.search(r"legacy_tox_ini\s*=\s*(\"\"\"|''')", text)
    if match is None:
        return None
    end = text.find(match.group(1), match.end())
    first = text.count("\n", 0, match.end()) + 1
    return name, sessions.parse_ini(text[match.end() : end if end >= 0 else None], first)


def _nox(view: RepoView, caller: Command, argv: str, depth: int, seen: set[str]) -> list[Command]:
    words = argv.split()
    name = within(caller.cwd, "noxfile.py")
    for flag in ("-f", "--noxfile"):
        if flag in words and words.index(flag) + 1 < len(words):
            name = within(caller.cwd, words[words.index(flag) + 1])
    module = view.python(name)
    if module is None or isinstance(module, ParseError):
        return []
    lines = sessions.nox_commands(module, sessions.nox_sessions(argv))
    return _inner(view, caller, name, lines, depth, seen)


def _inner(
    view: RepoView,
    caller: Command,
    name: str,
    lines: list[sessions.Line],
    depth: int,
    seen: set[str],
) -> list[Command]:
    result: list[Command] = []
    for line in lines:
        live = live_command(line.text)
        if live is None:
            continue
        key = f"{name}:{line.line}"
        if key in seen:
            continue
        seen.add(key)
        inner = replace(caller, file=name, line=line.line, text=live, cwd=posixpath.dirname(name))
        result.extend(expand(view, inner, depth + 1, seen))
    return result


def _package_script(
    view: RepoView, caller: Command, script: str, depth: int, seen: set[str]
) -> list[Command]:
    """`npm test`, `npm run lint`, `yarn lint`: the `scripts` entry of package.json (with its
    `pre`/`post` scripts), at its line."""
    name = within(caller.cwd, "package.json")
    manifest = view.json(name)
    scripts = manifest.get("scripts") if isinstance(manifest, dict) else None
    if not isinstance(scripts, dict):
        return []
    text = view.text(name) or ""
    lines: list[sessions.Line] = []
    for key in (f"pre{script}", script, f"post{script}"):
        value = scripts.get(key)
        if isinstance(value, str):
            found = re.search(rf'^\s*"{re.escape(key)}"\s*:', text, re.MULTILINE)
            line = text.count("\n", 0, found.start()) + 1 if found else 1
            lines.append(sessions.Line(line, value))
    return _inner(view, caller, name, lines, depth, seen)
