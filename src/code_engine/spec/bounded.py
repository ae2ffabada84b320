"""YAML read within limits: size, nesting depth, and nodes after alias expansion.

A few hundred bytes of anchors and aliases ("billion laughs") expand into billions of nodes
once anything walks the loaded data, and a deep `[[[[...` exhausts the recursive composer.
Both are measured here on the parser's event stream, which is iterative and linear in the
text, before anything builds or walks a tree; over a limit the file is refused with the
line of the offending node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    NodeEvent,
    ScalarEvent,
)
from ruamel.yaml.nodes import Node

from code_engine.errors import InvalidFileError, Location


@dataclass(frozen=True)
class YamlLimits:
    """How much YAML one file may hold; the defaults fit any real `code.yaml` many times."""

    max_bytes: int = 256 * 1024
    max_depth: int = 64
    max_aliases: int = 1_000
    max_nodes: int = 100_000  # counted after alias expansion


DEFAULT_LIMITS = YamlLimits()


def check_bounds(text: str, filename: str, limits: YamlLimits = DEFAULT_LIMITS) -> None:
    """Raise InvalidFileError when `text` is over a limit; YAML syntax errors propagate."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        message = f"file is {size} bytes, over the limit of {limits.max_bytes} bytes"
        raise InvalidFileError(problems=[Location(filename, 1, None, "", message)])
    _check_flow_depth(text, filename, limits.max_depth)
    # the plain scanner: the round-trip one looks far ahead for comments, in quadratic time
    _check_events(YAML(typ="safe", pure=True).parse(text), filename, limits)


def compose_bounded(
    text: str, filename: str, limits: YamlLimits = DEFAULT_LIMITS, *, yaml: YAML | None = None
) -> Node | None:
    """The node tree of one YAML document, once its text is within the limits (composed
    by `yaml`, whose constructor can then build the data from it; default: round-trip)."""
    check_bounds(text, filename, limits)
    node: Node | None = (yaml or YAML(typ="rt")).compose(text)
    return node


def load_bounded(
    text: str, filename: str, limits: YamlLimits = DEFAULT_LIMITS, *, typ: str = "safe"
) -> Any:
    """Load one YAML document within the limits; every problem is an InvalidFileError."""
    try:
        check_bounds(text, filename, limits)
        return YAML(typ=typ, pure=True).load(text)
    except YAMLError as exc:
        raise InvalidFileError(problems=[syntax_problem(exc, text, filename)]) from None


def _check_flow_depth(text: str, filename: str, max_depth: int) -> None:
    """Brackets nested deeper than allowed, found before the scanner sees them.

    ruamel's scanner looks up to 1024 characters ahead for a key at every open bracket,
    checking every open one each time: `[[[[...` costs seconds before the first event.
    Quoted text and comments are skipped; brackets in a plain scalar count, which no real
    spec nests 64 deep.
    """
    depth, line, column, quote = 0, 1, 0, ""
    previous = "\n"
    for character in text:
        column += 1
        if character == "\n":
            line, column = line + 1, 0
            if quote != '"' and quote != "'":
                quote = ""
        elif quote == "#":
            pass
        elif quote:
            if character == quote:
                quote = ""
        elif character in "\"'" and previous in " \t\n[{,:-":
            quote = character  # a quoted scalar starts; `don't` in a plain one does not
        elif character == "#" and previous in " \t\n":
            quote = "#"
        elif character in "[{":
            depth += 1
            if depth > max_depth:
                message = f"nested deeper than {max_depth} levels"
                raise InvalidFileError(problems=[Location(filename, line, column, "", message)])
        elif character in "]}" and depth:
            depth -= 1
        previous = character


def _check_events(events: Any, filename: str, limits: YamlLimits) -> None:
    meter = _Meter(limits)
    for event in events:
        problem = meter.add(event)
        if problem:
            mark = event.start_mark
            location = Location(filename, mark.line + 1, mark.column + 1, "", problem)
            raise InvalidFileError(problems=[location])


class _Meter:
    """Counts nodes as they would be after alias expansion, and the nesting depth."""

    def __init__(self, limits: YamlLimits) -> None:
        self.limits = limits
        # sizes[i] counts the expanded nodes of the i-th open collection; anchors remember
        # the expanded size of each anchored node so an alias costs what it will expand to
        self.sizes: list[int] = []
        self.anchors_at: list[str | None] = []
        self.anchors: dict[str, int] = {}
        self.total = 0
        self.aliases = 0

    def add(self, event: Event) -> str:
        """The limit this event crosses, or an empty string."""
        limits = self.limits
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > limits.max_aliases:
                return f"more than {limits.max_aliases} aliases"
            size = self.anchors.get(str(event.anchor), 1)
            self.total += size
            if self.total > limits.max_nodes:
                return f"aliases expand to more than {limits.max_nodes} nodes"
            self._close(size, None)
        elif isinstance(event, ScalarEvent):
            self.total += 1
            self._close(1, _anchor(event))
        elif isinstance(event, CollectionStartEvent):
            self.total += 1
            if len(self.sizes) >= limits.max_depth:
                return f"nested deeper than {limits.max_depth} levels"
            self.sizes.append(1)
            self.anchors_at.append(_anchor(event))
        elif isinstance(event, CollectionEndEvent) and self.sizes:
            self._close(self.sizes.pop(), self.anchors_at.pop())
        return f"more than {limits.max_nodes} nodes" if self.total > limits.max_nodes else ""

    def _close(self, size: int, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = size
        if self.sizes:
            self.sizes[-1] += size


def _anchor(event: NodeEvent) -> str | None:
    anchor = event.anchor
    return None if anchor is None else str(anchor)


def syntax_problem(error: YAMLError, text: str, filename: str) -> Location:
    """Where a YAML syntax error is, in words a person can act on."""
    if isinstance(error, MarkedYAMLError) and error.problem_mark is not None:
        mark, context = error.problem_mark, error.context_mark
        message = str(error.problem or "invalid YAML")
        if error.context:
            where = f" (line {context.line + 1})" if context and context.line != mark.line else ""
            message = f"{error.context}{where}, {message}"
        if "'\\t'" in message:
            message += "; indent with spaces"
        return Location(filename, mark.line + 1, mark.column + 1, "", message)
    # a ReaderError: a character YAML does not allow, located by offset only
    position = getattr(error, "position", 0)
    before = text[:position]
    character = getattr(error, "character", 0)
    code = character if isinstance(character, int) else ord(str(character)[:1] or "?")
    message = f"character U+{code:04X} is not allowed in YAML"
    return Location(filename, before.count("\n") + 1, position - before.rfind("\n"), "", message)
