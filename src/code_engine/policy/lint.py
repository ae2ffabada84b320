"""Checks regopy does not make on its own: the pre-v1 rule form (which it reads as something
else, silently) and calls to functions that exist nowhere (which it reports only when the
call runs, without a line). Both refuse a policy when it is loaded, with file:line."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import regopy

from code_engine.errors import Location
from code_engine.policy.model import Source

# A rule head followed straight by a body, with no `if` or `contains`: the v0 form.
V0_RULE = re.compile(r"^(?!default\b)([A-Za-z_]\w*)(\[[^\]]*\])?(\s*=\s*[^{]+?)?\s*\{\s*$")
CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(")
HEAD = re.compile(r"^([A-Za-z_]\w*)\b", re.MULTILINE)
IMPORT = re.compile(r"^import\s+(data\.[\w.]+)(?:\s+as\s+(\w+))?\s*$", re.MULTILINE)
PACKAGE = re.compile(r"^package\s+([\w.]+)\s*$", re.MULTILINE)
KEYWORDS = frozenset(
    {
        "if",
        "not",
        "some",
        "every",
        "in",
        "contains",
        "else",
        "with",
        "as",
        "default",
        "print",
        "set",
    }
)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`')


@functools.cache
def _builtins() -> regopy.Interpreter:
    return regopy.Interpreter()


def is_builtin(name: str) -> bool:
    return bool(_builtins().is_builtin(name))


def blank_strings_and_comments(text: str) -> str:
    """The text with string literals and comments blanked out, lines kept in place."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    lines = [line.split("#", 1)[0] for line in _STRING.sub(blank, text).split("\n")]
    return "\n".join(lines)


def defined_names(sources: Iterable[Source]) -> set[str]:
    """Every rule and function name the sources define."""
    return {name for s in sources for name in HEAD.findall(blank_strings_and_comments(s.text))}


def static_problems(sources: tuple[Source, ...]) -> list[Location]:
    problems: list[Location] = []
    defined = defined_names(sources)
    for source in sources:
        if PACKAGE.search(source.text) is None:
            problems.append(Location(source.name, 1, None, "", "no package declaration"))
        clean = blank_strings_and_comments(source.text)
        for number, line in enumerate(clean.split("\n"), start=1):
            if V0_RULE.match(line):
                problems.append(
                    Location(
                        source.name,
                        number,
                        None,
                        "",
                        "Rego v0 rule syntax; write `name contains x if {` or `name if {`",
                    )
                )
            for call in CALL.finditer(line):
                name = call.group(1)
                if name in KEYWORDS or is_builtin(name):
                    continue
                if name.rsplit(".", 1)[-1] in defined and "." in name or name in defined:
                    continue
                problems.append(
                    Location(source.name, number, call.start(1) + 1, "", f"unknown function {name}")
                )
    return problems


def rule_defined(sources: Iterable[Source], query: str) -> bool:
    """True when some source's package holds the rule `query` names."""
    package, _, rule = query.removeprefix("data.").rpartition(".")
    for source in sources:
        found = PACKAGE.search(source.text)
        if found and found.group(1) == package:
            clean = blank_strings_and_comments(source.text)
            if re.search(rf"^(default\s+)?{re.escape(rule)}\b", clean, re.MULTILINE):
                return True
    return False
