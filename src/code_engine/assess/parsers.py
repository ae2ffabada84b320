"""Parsers that keep line numbers: YAML (1.2 booleans), JSON/JSONC, TOML, HCL, Dockerfile, Make."""

from __future__ import annotations

import importlib
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

# PyYAML for its libyaml speed (10x ruamel's pure-Python parser); it ships no type stubs
yaml: Any = importlib.import_module("yaml")


@dataclass(frozen=True)
class ParseError:
    """A file that could not be parsed, with the line the parser stopped at."""

    file: str
    line: int | None
    message: str


class YamlMap(dict[Any, Any]):
    """A YAML mapping that remembers its line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YamlSeq(list[Any]):
    """A YAML sequence that remembers its line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_at(self, index: int) -> int:
        lines = getattr(self, "item_lines", [])
        return lines[index] if index < len(lines) else self.line


YAML_MAX_NODES = 200_000  # after alias expansion; size, depth and alias count as in `spec.bounded`
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL = "tag:yaml.org,2002:bool"


class _Loader(_BaseLoader):  # type: ignore[misc]
    """libyaml when present; YAML 1.2 booleans so that GitHub's `on:` stays a string."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_map(loader: Any, node: Any) -> YamlMap:
    loader.flatten_mapping(node)
    result = YamlMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            key = str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: Any, node: Any) -> YamlSeq:
    result = YamlSeq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def parse_yaml(name: str, text: str) -> list[Any] | ParseError:
    """Every document of a YAML stream (empty documents dropped), within the YAML limits."""
    refused = _over_limits(name, text)
    if refused is not None:
        return refused
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        return ParseError(name, line, f"invalid YAML: {problem}")
    except RecursionError:
        return ParseError(name, None, "YAML refused: nested too deeply")


def _over_limits(name: str, text: str) -> ParseError | None:
    """A `ParseError` when the text is over a size, depth or alias-expansion limit.

    Only text with anchors or deep flow nesting can blow up; the rest skips the slower
    event walk of the bounded reader.
    """
    if "&" not in text and "*" not in text and text.count("[") + text.count("{") < 64:
        if len(text) < 32 * 1024:
            return None
    from ruamel.yaml.error import YAMLError

    from code_engine.errors import InvalidFileError
    from code_engine.spec.bounded import YamlLimits, check_bounds

    try:
        check_bounds(text, name, YamlLimits(max_nodes=YAML_MAX_NODES))
    except InvalidFileError as exc:
        where = exc.problems[0] if exc.problems else None
        message = where.message if where is not None else "over a limit"
        return ParseError(name, where.line if where else None, f"YAML refused: {message}")
    except (YAMLError, RecursionError):
        return None  # a syntax error: the loader below reports it with its line
    return None


def parse_json(name: str, text: str, *, comments: bool = False) -> Any:
    """JSON, or JSON with comments and trailing commas (devcontainer.json) when asked."""
    try:
        return json.loads(_strip_jsonc(text) if comments else text)
    except json.JSONDecodeError as exc:
        return ParseError(name, exc.lineno, f"invalid JSON: {exc.msg}")
    except RecursionError:
        return ParseError(name, None, "JSON refused: nested too deeply")


_JSONC_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.DOTALL)


def _strip_jsonc(text: str) -> str:
    def keep(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith('"'):
            return token
        return re.sub(r"[^\n]", " ", token)  # keeps line numbers of later errors right

    return _JSONC_TOKEN.sub(keep, text)


def parse_toml(name: str, text: str) -> dict[str, Any] | ParseError:
    try:
        result: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        return ParseError(name, int(match.group(1)) if match else None, f"invalid TOML: {exc}")
    except RecursionError:
        return ParseError(name, None, "TOML refused: nested too deeply")
    return result


def parse_hcl(name: str, text: str) -> dict[str, Any] | ParseError:
    # imported here: loading the grammar costs ~0.2 s, paid only by repositories with HCL
    import hcl2

    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    try:
        result: dict[str, Any] = hcl2.loads(text, serialization_options=options)
    except Exception as exc:  # noqa: BLE001 - lark raises many unrelated exception types
        line = getattr(exc, "line", None)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return ParseError(name, line if isinstance(line, int) else None, f"invalid HCL: {first}")
    return result


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction with its 1-based line."""

    name: str
    value: str
    line: int


@dataclass(frozen=True)
class Stage:
    """One build stage: its base image (build args substituted), alias and instructions."""

    base: str
    alias: str | None
    line: int
    instructions: tuple[Instruction, ...] = ()


def parse_dockerfile(name: str, text: str) -> tuple[Stage, ...] | ParseError:
    """The stages of a Dockerfile, read by dockerfile-parse."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    structure = parser.structure
    images = list(parser.parent_images)
    stages: list[Stage] = []
    current: list[Instruction] = []
    for item in structure:
        instruction = Instruction(item["instruction"], item["value"], item["startline"] + 1)
        if instruction.name == "FROM":
            if stages:
                stages[-1] = _with(stages[-1], current)
            words = instruction.value.split()
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            base = images[len(stages)] if len(stages) < len(images) else words[0]
            stages.append(Stage(base, alias, instruction.line))
            current = []
        elif stages:
            current.append(instruction)
    if not stages:
        return ParseError(name, 1, "no FROM instruction")
    stages[-1] = _with(stages[-1], current)
    return tuple(stages)


def _with(stage: Stage, instructions: list[Instruction]) -> Stage:
    return Stage(stage.base, stage.alias, stage.line, tuple(instructions))


@dataclass
class MakeTarget:
    """A Makefile rule: prerequisites and recipe lines (1-based line of the rule)."""

    line: int
    prerequisites: list[str] = field(default_factory=list)
    recipe: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the file line of each recipe line


_RULE = re.compile(r"^([A-Za-z0-9_./%$()-][^:=#]*?)\s*::?(?![=])\s*([^=#;]*)(?:;(.*))?$")


def parse_makefile(text: str) -> dict[str, MakeTarget]:
    """Rules and recipes of a Makefile (continuations joined; variables are not expanded)."""
    targets: dict[str, MakeTarget] = {}
    current: list[MakeTarget] = []
    for number, line in _logical_lines(text):
        if line.startswith("\t"):
            for target in current:
                target.recipe.append(line.strip())
                target.lines.append(number)
            continue
        line = line.split("#", 1)[0].rstrip()
        match = _RULE.match(line)
        if match is None or line.startswith((".PHONY", "export ", "define ", "ifeq", "ifdef")):
            if line.strip() and not line.lstrip().startswith("#"):
                current = []
            continue
        current = []
        for name in match.group(1).split():
            target = targets.setdefault(name, MakeTarget(number))
            target.prerequisites.extend(match.group(2).split())
            if match.group(3):
                target.recipe.append(match.group(3).strip())
                target.lines.append(number)
            current.append(target)
    return targets


_VARIABLE = re.compile(
    r"^(?:override\s+|export\s+)?([A-Za-z_][\w.-]*)\s*(\?=|:{1,3}=|\+=|!=|=)\s*(.*)$"
)
_REFERENCE = re.compile(r"\$[({]([A-Za-z_][\w.-]*)[)}]")
_BUILTIN = {"MAKE": "make", "CURDIR": "."}


def parse_make_variables(text: str) -> dict[str, str]:
    """The variables a Makefile sets (`=`, `:=`, `?=`, `+=`), last assignment winning."""
    variables: dict[str, str] = {}
    for _, line in _logical_lines(text):
        if line.startswith("\t"):
            continue
        match = _VARIABLE.match(line.split("#", 1)[0].strip())
        if match is None:
            continue
        name, operator, value = match.groups()
        if operator == "?=" and name in variables:
            continue
        if operator == "+=":
            value = f"{variables.get(name, '')} {value}".strip()
        variables[name] = value.strip()
    return variables


MAX_EXPANSION = 10_000  # characters: a variable that doubles itself stops growing here


def _expand_once(text: str, variables: dict[str, str]) -> str | None:
    """One round of substitution; None when it would grow past `MAX_EXPANSION`."""
    pieces: list[str] = []
    size, start = 0, 0
    for match in _REFERENCE.finditer(text):
        name = match.group(1)
        value = variables.get(name, _BUILTIN.get(name, match.group(0)))
        pieces += [text[start : match.start()], value]
        size += match.start() - start + len(value)
        if size > MAX_EXPANSION:
            return None
        start = match.end()
    pieces.append(text[start:])
    return "".join(pieces)


def expand_make(text: str, variables: dict[str, str], depth: int = 5) -> str:
    """`$(NAME)` and `${NAME}` replaced by their values (recursively, at most `depth` rounds
    and `MAX_EXPANSION` characters); `$$` becomes `$`."""
    for _ in range(depth):
        expanded = _expand_once(text, variables)
        if expanded is None or expanded == text:
            break
        text = expanded
    return text.replace("$$", "$")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if pending is not None:
            pending = (pending[0], pending[1] + " " + raw.strip())
        else:
            pending = (number, raw)
        if pending[1].endswith("\\"):
            pending = (pending[0], pending[1][:-1])
            continue
        lines.append(pending)
        pending = None
    if pending is not None:
        lines.append(pending)
    return lines
