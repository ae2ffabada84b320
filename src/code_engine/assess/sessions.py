"""What `tox -e ENV` and `nox -s SESSION` run: the commands of their configuration, by line.

tox: `tox.ini`, or `setup.cfg` (`[tox:tox]`), or `legacy_tox_ini` in `pyproject.toml`; an
environment without its own `commands` inherits `[testenv]`'s. nox: the functions of
`noxfile.py` decorated with `@nox.session`, and the `session.run(...)` calls in them.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*=\s*(.*)$")
_SUBSTITUTION = re.compile(r"\{(?:posargs|env:[^}:]*)(?::([^}]*))?\}|\{[^}\s]*\}")
_FACTOR = re.compile(r"^[\w!,-]+:\s+")
_NAMED = {"{envpython}": "python", "{toxinidir}": ".", "{toxworkdir}": ".tox"}


@dataclass(frozen=True)
class Line:
    """One command a session runs, at its line of the configuration file."""

    line: int
    text: str


IniSections = dict[str, dict[str, list[Line]]]


def parse_ini(text: str, first_line: int = 1) -> IniSections:
    """Sections, keys and each key's value lines (continuations kept apart, with lines)."""
    sections: IniSections = {}
    current: dict[str, list[Line]] | None = None
    values: list[Line] | None = None
    for offset, raw in enumerate(text.splitlines()):
        number = first_line + offset
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if raw[0] in " \t":
            if values is not None:
                values.append(Line(number, stripped))
            continue
        section = _SECTION.match(stripped)
        if section:
            current = sections.setdefault(section.group(1).strip(), {})
            values = None
            continue
        key = _KEY.match(stripped)
        if key and current is not None:
            values = current.setdefault(key.group(1), [])
            values.clear()
            if key.group(2).strip():
                values.append(Line(number, key.group(2).strip()))
    return sections


def tox_environments(argv: str) -> list[str] | None:
    """The environments a `tox` command line names (`-e a,b`); None: tox's default list."""
    try:
        words = shlex.split(argv)
    except ValueError:
        words = argv.split()
    found: list[str] = []
    for index, word in enumerate(words):
        if word in ("-e", "--env") and index + 1 < len(words):
            found.extend(words[index + 1].split(","))
        elif word.startswith(("-e=", "--env=")):
            found.extend(word.split("=", 1)[1].split(","))
    return [f for f in found if f] or None


def tox_commands(sections: IniSections, environments: list[str] | None) -> list[Line]:
    """The commands tox runs for `environments` (None: the `envlist`, or `[testenv]`)."""
    tox = sections.get("tox") or sections.get("tox:tox") or {}
    if environments is None:
        listed = " ".join(line.text for line in tox.get("envlist", []))
        environments = [e for e in re.split(r"[\s,]+", listed) if e] or [""]
    result: list[Line] = []
    for environment in environments:
        own = sections.get(f"testenv:{environment}", {})
        lines = own.get("commands") if "commands" in own else None
        if lines is None:
            lines = sections.get("testenv", {}).get("commands", [])
        result.extend(Line(line.line, _tox_text(line.text)) for line in lines)
    return [line for line in result if line.text]


def _tox_text(text: str) -> str:
    for name, value in _NAMED.items():
        text = text.replace(name, value)
    text = _FACTOR.sub("", text)
    return _SUBSTITUTION.sub(lambda m: m.group(1) or "", text).strip()


def nox_sessions(argv: str) -> list[str] | None:
    """The sessions a `nox` command line names (`-s a b`, `--session a`); None: all of them."""
    words = argv.split()
    found: list[str] = []
    taking = False
    for word in words:
        if word in ("-s", "--session", "--sessions", "-e"):
            taking = True
        elif word.startswith("-"):
            taking = False
        elif taking:
            found.append(word.strip(",'\""))
    return found or None


def nox_commands(module: ast.Module, sessions: list[str] | None) -> list[Line]:
    """The `session.run(...)` lines of the chosen sessions, and of sessions they notify."""
    defined = dict(_sessions(module))
    wanted = list(defined) if sessions is None else [s for s in sessions if s in defined]
    result: list[Line] = []
    done: set[str] = set()
    while wanted:
        name = wanted.pop(0)
        if name in done:
            continue
        done.add(name)
        for call, method in _session_calls(defined[name]):
            words = _literal_words(call.args)
            if method == "notify" and words:
                wanted.append(words[0])
            elif method in ("run", "run_always", "run_install") and words:
                if not _success_codes_widened(call):
                    result.append(Line(call.lineno, " ".join(shlex.quote(w) for w in words)))
    return result


def _sessions(module: ast.Module) -> Iterable[tuple[str, ast.FunctionDef]]:
    for node in module.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if ast.unparse(target) in ("nox.session", "session", "nox_uv.session"):
                name = node.name
                if isinstance(decorator, ast.Call):
                    for keyword in decorator.keywords:
                        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                            name = str(keyword.value.value)
                yield name, node


def _session_calls(function: ast.FunctionDef) -> Iterable[tuple[ast.Call, str]]:
    receiver = function.args.args[0].arg if function.args.args else "session"
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == receiver
        ):
            yield node, node.func.attr


def _literal_words(args: list[ast.expr]) -> list[str]:
    return [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _success_codes_widened(call: ast.Call) -> bool:
    """`success_codes=[0, 1]`: a failure of the command does not fail the session."""
    for keyword in call.keywords:
        if keyword.arg == "success_codes":
            value = keyword.value
            if isinstance(value, ast.List | ast.Tuple | ast.Set):
                codes = {e.value for e in value.elts if isinstance(e, ast.Constant)}
                return codes != {0}
            return True
    return False
