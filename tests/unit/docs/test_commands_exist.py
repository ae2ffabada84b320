"""Every `codectl ...` and `make ...` command shown by the README, the docs (runbooks included),
`code.yaml`'s comments, the manifests under `deploy/` and the code's own messages and comments
exists: the command path is in the real command tree (walked through Typer's click objects, not
a list), every option used is an option of that command, no more arguments are given than it
takes, and every make target is a target of the Makefile."""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from code_engine.cli.main import _register, app

ROOT = Path(__file__).resolve().parents[3]
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^\s*(```|~~~)")
# how a command line starts: codectl (any path to it) or python -m code_engine; make
CODECTL = re.compile(r"^(?:\S*/)?codectl$")
SHELL_BREAKS = {"|", "||", "&&", ";", "&", ">", ">>", "2>", "<", "2>&1"}


@dataclass(frozen=True)
class Mention:
    """One command line shown to readers, and where."""

    where: str
    argv: tuple[str, ...]  # without the leading codectl/make

    def __str__(self) -> str:
        return f"{self.where}: {' '.join(self.argv)}"


def _split(text: str) -> list[str]:
    """Shell words; `[--env ENV]` (an optional part, as docs write it) counts as given."""
    try:
        words = shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote in a doc line: words are enough
        words = text.split()
    return [w.strip("[]") for w in words if w.strip("[]") and w != "[OPTIONS]"]


def _commands(words: list[str]) -> Iterator[tuple[str, list[str]]]:
    """("codectl"|"make", the words after it) for each command in a shell line."""
    starts = {0} | {n + 1 for n, word in enumerate(words) if word in SHELL_BREAKS | {"sudo"}}
    for n, word in enumerate(words):
        if CODECTL.match(word):
            tool, rest = "codectl", words[n + 1 :]
        elif word == "-m" and words[n + 1 : n + 2] == ["code_engine"]:
            tool, rest = "codectl", words[n + 2 :]
        elif word == "make" and (n in starts or "=" in words[n - 1]):
            tool, rest = "make", words[n + 1 :]
        else:
            continue
        end = next((i for i, w in enumerate(rest) if w in SHELL_BREAKS), len(rest))
        yield tool, rest[:end]


def _alternatives(span: str) -> Iterator[str]:
    """`codectl services|changes list|show` as a table shows it: every combination."""
    words = [word.strip("[]") for word in span.split()]
    choices = [w.split("|") if "|" in w and not w.startswith("|") else [w] for w in words]
    for combination in itertools.product(*choices):
        yield " ".join(combination)


def _markdown(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, text, is a code-block line) of the commands a Markdown page shows."""
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            yield number, line.strip().removeprefix("$ "), True
        else:
            for span in CODE_SPAN.findall(line):
                if re.match(r"(\S*/)?codectl\b|make |python3? -m code_engine\b", span):
                    yield from ((number, text, False) for text in _alternatives(span))


def _yaml(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Commands in a YAML file: code spans of its comments, and container/command fields."""
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if "#" in line:
            comment = line[line.index("#") :]
            for span in CODE_SPAN.findall(comment):
                yield from ((number, alt, False) for alt in _alternatives(span))
    for document in yaml.safe_load_all(text):
        yield from ((0, command, True) for command in _command_fields(document))


def _python(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Commands the code names in its comments, docstrings and messages (as code spans)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for span in CODE_SPAN.findall(line):
            if re.match(r"codectl |make [a-z]", span):
                yield from ((number, alt, False) for alt in _alternatives(span))


def _command_fields(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        command = node.get("command")
        if command is not None:
            argv = command if isinstance(command, list) else [command]
            argv = [*argv, *node.get("args", [])]
            yield " ".join(shlex.quote(str(a)) if " " not in str(a) else str(a) for a in argv)
        for value in node.values():
            yield from _command_fields(value)
    elif isinstance(node, list):
        for value in node:
            yield from _command_fields(value)


def _sources() -> list[Path]:
    docs = sorted((ROOT / "docs").rglob("*.md"))
    manifests = sorted((ROOT / "deploy").rglob("*.yaml"))
    code = sorted((ROOT / "src").rglob("*.py"))
    return [ROOT / "README.md", *docs, ROOT / "code.yaml", *manifests, *code]


def mentions(paths: list[Path] | None = None) -> tuple[list[Mention], list[Mention]]:
    """The codectl and the make commands of every source."""
    codectl: list[Mention] = []
    make: list[Mention] = []
    for path in paths or _sources():
        read = {".md": _markdown, ".py": _python}.get(path.suffix, _yaml)
        lines = read(path)
        for number, text, _code in lines:
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            where = f"{shown}:{number}" if number else str(shown)
            for tool, argv in _commands(_split(text)):
                (codectl if tool == "codectl" else make).append(Mention(where, tuple(argv)))
    return codectl, make


def _placeholder(word: str) -> bool:
    """`SERVICE`, `<group>`, `...`, `…`: documentation's stand-ins, not words to check."""
    return (
        word.isupper()
        or word.startswith(("<", "{", "$"))
        or word in ("...", "…")
        or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", word)
    )


def check_codectl(root: Any, argv: tuple[str, ...]) -> str | None:
    """Why `codectl argv` is not a real command line, or None when it is."""
    command, path, positional = root, ["codectl"], []
    words = list(argv)
    while words:
        word = words.pop(0)
        if word == "--":
            positional.extend(words)
            break
        if word.startswith("-") and len(word) > 1:
            problem = _option(command, word, path)
            if problem:
                return problem
            if _takes_value(command, word) and "=" not in word and words:
                words.pop(0)
        elif not hasattr(command, "commands"):
            positional.append(word)  # an argument of a leaf command
        elif _placeholder(word):
            return None  # `codectl <group> <verb>`: nothing more to check
        elif word not in command.commands:
            known = ", ".join(sorted(command.commands))
            return f"`{' '.join(path)}` has no command `{word}` (it has: {known})"
        else:
            command = command.commands[word]
            path.append(word)
    return _arguments(command, path, positional) or _command_as_argument(root, path, positional)


def _arguments(command: Any, path: list[str], given: list[str]) -> str | None:
    """More words than the command's arguments take: a subcommand that does not exist."""
    if any(word in ("...", "…") for word in given) or hasattr(command, "commands"):
        return None
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    if any(p.nargs < 0 for p in arguments):
        return None
    most = sum(p.nargs for p in arguments)
    if len(given) > most:
        names = " ".join((p.name or "").upper() for p in arguments) or "no arguments"
        return f"`{' '.join(path)}` takes {names}, not `{' '.join(given)}`"
    return None


def _command_names(group: Any) -> set[str]:
    names = set(getattr(group, "commands", {}))
    for command in getattr(group, "commands", {}).values():
        names |= _command_names(command)
    return names


def _command_as_argument(root: Any, path: list[str], given: list[str]) -> str | None:
    """`codectl deploy resume`, `codectl deploy list`: the word fits as ENVIRONMENT, but it is
    the name of a command, so the line means a command that does not exist."""
    for word in given:
        if word in _command_names(root):
            return f"`{' '.join(path)}` takes `{word}` as an argument; `{word}` is a command"
    return None


def _option_names(command: Any) -> dict[str, Any]:
    names = {"--help": None}
    for param in command.params:
        if param.param_type_name == "option":
            for name in [*param.opts, *param.secondary_opts]:
                names[name] = param
    return names


def _option(command: Any, word: str, path: list[str]) -> str | None:
    name = word.split("=", 1)[0]
    names = _option_names(command)
    if name in names:
        return None
    if re.fullmatch(r"-[a-zA-Z]{2,}", name) and all(f"-{c}" in names for c in name[1:]):
        return None  # combined short flags
    return f"`{' '.join(path)}` has no option `{name}` (it has: {', '.join(sorted(names))})"


def _takes_value(command: Any, word: str) -> bool:
    param = _option_names(command).get(word.split("=", 1)[0])
    return param is not None and not param.is_flag and not getattr(param, "count", False)


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.MULTILINE))


def check_make(targets: set[str], argv: tuple[str, ...]) -> str | None:
    for word in argv:
        if word.startswith("-") or "=" in word or word.isupper():
            continue
        if word not in targets:
            return f"the Makefile has no target `{word}`"
    return None


@pytest.fixture(scope="module")
def command_tree() -> Any:
    _register()
    return typer.main.get_command(app)


def test_the_extraction_finds_the_commands_of_every_kind_of_source() -> None:
    codectl, make = mentions()
    shown = {" ".join(m.argv) for m in codectl}
    assert "services list" in shown  # README console block
    assert {"server --host 127.0.0.1 --port {port}"} & shown  # code.yaml's command field
    assert any(m.where.startswith("deploy/") for m in codectl)  # manifests
    assert any(m.where.startswith("docs/runbooks/") for m in codectl)
    assert {m.argv for m in make} >= {("dev-run",), ("dev-test",), ("metrics-dashboard",)}


def test_every_codectl_command_shown_exists(command_tree: Any) -> None:
    codectl, _ = mentions()
    wrong = [f"{m}: {problem}" for m in codectl if (problem := check_codectl(command_tree, m.argv))]
    assert not wrong, "commands that do not exist:\n" + "\n".join(wrong)


def test_every_make_target_shown_exists() -> None:
    targets = make_targets()
    _, make = mentions()
    wrong = [f"{m}: {problem}" for m in make if (problem := check_make(targets, m.argv))]
    assert not wrong, "commands that do not exist:\n" + "\n".join(wrong)


def test_the_checks_catch_a_command_or_option_that_does_not_exist(
    command_tree: Any, tmp_path: Path
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Run `codectl deploy promote staging` or `codectl dora --no-such-option`,\n"
        "```console\n$ codectl resume prod --service hello && make no-such-target\n```\n"
    )
    codectl, make = mentions([page])
    problems = [check_codectl(command_tree, m.argv) for m in codectl]
    assert "`codectl deploy` takes ENVIRONMENT, not `promote staging`" in str(problems[0])
    resume = check_codectl(command_tree, ("deploy", "resume"))
    assert resume == "`codectl deploy` takes `resume` as an argument; `resume` is a command"
    assert "has no option `--no-such-option`" in str(problems[1])
    assert problems[2] is None
    assert check_make(make_targets(), make[0].argv) == "the Makefile has no target `no-such-target`"
    assert "has no command `nope`" in str(check_codectl(command_tree, ("dora", "nope")))
