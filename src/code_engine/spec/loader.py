"""Read `code.yaml` into a `ServiceSpec`, reporting every problem with its line and column."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from code_engine.errors import InvalidFileError, Location, UserError
from code_engine.spec.bounded import DEFAULT_LIMITS, compose_bounded, syntax_problem
from code_engine.spec.locate import locate_errors, locate_field
from code_engine.spec.service import ServiceSpec

SPEC_FILENAME = "code.yaml"


def load_spec(path: str | os.PathLike[str] = SPEC_FILENAME) -> ServiceSpec:
    """Load and validate a spec file; InvalidFileError lists every problem in it."""
    name = os.fspath(path)
    try:
        with Path(name).open("rb") as file:
            # one byte over the limit is enough for the bounded loader to refuse the file
            raw = file.read(DEFAULT_LIMITS.max_bytes + 1)
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory, expected a {SPEC_FILENAME} file") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > DEFAULT_LIMITS.max_bytes:
        message = f"file is over the limit of {DEFAULT_LIMITS.max_bytes} bytes"
        raise InvalidFileError(problems=[Location(name, 1, None, "", message)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidFileError(
            problems=[Location(name, line, None, "", "file is not UTF-8 text")]
        ) from None
    return load_spec_text(text, name)


def load_spec_text(text: str, filename: str = SPEC_FILENAME) -> ServiceSpec:
    """Validate spec text; `filename` is only used to name locations in errors."""
    yaml = YAML(typ="rt")
    try:
        root = compose_bounded(text, filename, yaml=yaml)
        problems = _structure_problems(root, filename) if root is not None else []
        if problems:
            raise InvalidFileError(problems=problems)
        # the tree already composed, constructed by the same loader: the text is parsed once
        data = None if root is None else yaml.constructor.construct_document(root)
    except YAMLError as exc:
        raise InvalidFileError(problems=[syntax_problem(exc, text, filename)]) from None
    if not isinstance(data, CommentedMap):
        got = (
            "an empty file" if data is None else "a list" if isinstance(data, list) else repr(data)
        )
        message = f"expected a mapping with service, repo and environments, got {got}"
        raise InvalidFileError(problems=[Location(filename, 1, 1, "", message)])
    try:
        return ServiceSpec.model_validate(_plain(data))
    except ValidationError as exc:
        problems = locate_errors(exc, data, filename, ServiceSpec)
        raise InvalidFileError(problems=problems) from None


def locate_in_file(path: str, loc: tuple[Any, ...], message: str) -> Location:
    """Where the key at `loc` is written in the (valid) spec file `path`, with `message`."""
    text = Path(path).read_text(encoding="utf-8-sig")
    data = YAML(typ="rt").load(text)
    return locate_field(data, path, loc, message)


def _structure_problems(root: Node, filename: str) -> list[Location]:
    """Keys written twice in one mapping, and aliases that contain themselves."""
    problems: list[Location] = []
    done: set[int] = set()  # an alias repeats its node; report what is in it once

    def visit(node: Node, path: list[Any], ancestors: tuple[int, ...]) -> None:
        def report(mark: Any, field: list[Any], message: str) -> None:
            dotted = ".".join(str(part) for part in field)
            problems.append(Location(filename, mark.line + 1, mark.column + 1, dotted, message))

        if id(node) in ancestors:
            report(node.start_mark, path, "alias refers to itself")
            return
        if id(node) in done:
            return
        done.add(id(node))
        inside = (*ancestors, id(node))
        if isinstance(node, MappingNode):
            first_lines: dict[Any, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, ScalarNode) else None
                if name is not None and name in first_lines:
                    message = f"duplicate key {name!r}, first set on line {first_lines[name]}"
                    report(key.start_mark, [*path, name], message)
                elif name is not None:
                    first_lines[name] = key.start_mark.line + 1
                visit(value, [*path, name], inside)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                visit(item, [*path, index], inside)

    visit(root, [], ())
    return problems


def _plain(value: Any) -> Any:
    """ruamel's round-trip types as the plain ones pydantic's strict mode expects."""
    if isinstance(value, CommentedMap):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, CommentedSeq):
        return [_plain(item) for item in value]
    for plain in (bool, int, float, str):
        if isinstance(value, plain):
            return plain(value)
    return value


def field_location(path: str | os.PathLike[str], field: tuple[Any, ...], message: str) -> Location:
    """Where `field` (e.g. `("pipeline", "steps", 2, "needs")`) is written in a spec file."""
    from code_engine.spec.locate import _walk

    name = os.fspath(path)
    try:
        data = YAML(typ="rt").load(Path(name).read_text(encoding="utf-8"))
    except (OSError, YAMLError):
        data = None
    if not isinstance(data, CommentedMap):
        return Location(name, None, None, ".".join(map(str, field)), message)
    found, (line, column) = _walk(data, field, at_key=False)
    return Location(name, line + 1, column + 1, ".".join(map(str, found or field)), message)
