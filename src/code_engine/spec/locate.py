"""Turn pydantic errors into `file:line:col: field: message` locations inside the YAML.

Written here because no library joins the two halves: pydantic reports a field path,
ruamel.yaml keeps each node's line and column; this walks the path through the parsed
document (and suggests the field a typo meant) so a person sees where to fix `code.yaml`.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from code_engine.errors import Location

Loc = tuple[Any, ...]
Position = tuple[int, int]  # 0-based line and column, as ruamel keeps them


def locate_errors(
    error: ValidationError, data: CommentedMap, filename: str, model: type[BaseModel]
) -> list[Location]:
    """One location per pydantic error, in file order."""
    problems = [_locate(detail, data, filename, model) for detail in error.errors()]
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def locate_field(data: CommentedMap, filename: str, loc: Loc, message: str) -> Location:
    """The location of the key at `loc` (a path of keys and indexes) with `message`."""
    path, (line, column) = _walk(data, loc, at_key=True)
    field = ".".join(str(part) for part in path)
    return Location(filename, line + 1, column + 1, field, message)


def _locate(
    detail: ErrorDetails, data: CommentedMap, filename: str, model: type[BaseModel]
) -> Location:
    ctx = detail.get("ctx") or {}
    loc: Loc = tuple(detail["loc"]) + tuple(ctx.get("at", ()))
    if detail["type"].startswith("union_tag_"):
        loc += (str(ctx.get("discriminator", "")).strip("'"),)  # point at `kind` itself
    path, (line, column) = _walk(data, loc, at_key=detail["type"] == "extra_forbidden")
    field = ".".join(str(part) for part in path)
    return Location(filename, line + 1, column + 1, field, _message(detail, loc, model))


def _walk(data: CommentedMap, loc: Loc, at_key: bool) -> tuple[list[Any], Position]:
    """Follow `loc` through the YAML; the path leaves out pydantic's union tags."""
    node: Any = data
    path: list[Any] = []
    position = key_position = (data.lc.line, data.lc.col)
    for index, part in enumerate(loc):
        if isinstance(node, CommentedMap) and part in node:
            key_position = _lc(node, "key", part, position)
            value_position = _lc(node, "value", part, key_position)
            node = node[part]
            # a scalar is shown where it is written; a block where its key opens it
            scalar = node is not None and not isinstance(node, (CommentedMap, CommentedSeq))
            position = value_position if scalar else key_position
            path.append(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            position = key_position = _lc(node, "item", part, position)
            node = node[part]
            path.append(part)
        elif part == "[key]":
            position = key_position  # the mapping key itself is wrong, not its value
        elif index == len(loc) - 1:
            path.append(part)  # a missing field, shown at the mapping that lacks it
        # anything else is a union tag: it names a model, it is not written in the file
    return path, key_position if at_key else position


def _lc(node: CommentedMap | CommentedSeq, kind: str, part: Any, default: Position) -> Position:
    """ruamel's position of a key, value or item; keys merged in with `<<` have none."""
    try:
        line, column = getattr(node.lc, kind)(part)
    except (KeyError, IndexError, TypeError):
        return default
    return int(line), int(column)


def _message(detail: ErrorDetails, loc: Loc, model: type[BaseModel]) -> str:
    kind, message, ctx = detail["type"], detail["msg"], detail.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field(loc[-1], _field_names(_type_at(model, loc[:-1])))
    if kind == "union_tag_invalid":
        return f"{ctx['tag']!r} is not a valid {loc[-1]}; expected one of: {ctx['expected_tags']}"
    if kind == "union_tag_not_found":
        tags = ", ".join(repr(tag) for _, tag in _alternatives(_type_at(model, loc[:-1])) if tag)
        return f"required field is missing; expected one of: {tags}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {_describe(detail['input'])}"
    if kind == "too_short":
        count = ctx["min_length"]
        return f"needs at least {count} item{'' if count == 1 else 's'}, got {ctx['actual_length']}"
    if kind == "list_type":
        return f"expected a list, got {_describe(detail['input'])}"
    if kind.endswith("_type"):
        return f"{message}, got {_describe(detail['input'])}{_hint(kind, detail['input'])}"
    return message.removeprefix("Value error, ")


def _hint(kind: str, value: Any) -> str:
    """How to write what was meant, for the classic YAML surprises."""
    if kind == "bool_type" and isinstance(value, str):
        return "; write true or false"  # YAML 1.2 reads yes/no/on/off as strings
    if kind == "string_type" and isinstance(value, (int, float, date)):
        return "; quote it to make it a string"
    return ""


def _unknown_field(key: Any, names: list[str]) -> str:
    close = difflib.get_close_matches(str(key), names, n=1)
    if close:
        return f"unknown field {key!r}; did you mean {close[0]!r}?"
    return f"unknown field {key!r}; expected one of: {', '.join(names)}"


def _describe(value: Any) -> str:
    """A value as the YAML author wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, date):
        return value.isoformat()  # YAML reads an unquoted 2024-01-31 as a date
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_at(model: type[BaseModel], loc: Loc) -> Any:
    """The annotation pydantic validated at `loc`, following union tags like pydantic does."""
    current: Any = model
    for part in loc:
        options = list(_alternatives(current))
        tagged = [option for option, tag in options if tag == part]
        if tagged:
            current = tagged[0]
            continue
        # None when `loc` leaves the models; every later step then stays None
        current = next((n for n in (_child(o, part) for o, _ in options) if n is not None), None)
    return current


def _child(annotation: Any, part: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    if get_origin(annotation) is list and isinstance(part, int):
        return get_args(annotation)[0]
    return None  # no spec model sits below a dict, so unknown keys never need one


def _alternatives(annotation: Any, tag: str | None = None) -> Iterator[tuple[Any, str | None]]:
    """The concrete types an annotated, optional or union type allows, each with its tag."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        tags = [item.tag for item in metadata if isinstance(item, Tag)]
        yield from _alternatives(inner, tags[0] if tags else tag)
    elif origin is Union or origin is types.UnionType:
        for member in get_args(annotation):
            yield from _alternatives(member)
    else:
        if tag is None and _is_model(annotation) and "kind" in annotation.model_fields:
            tag = get_args(annotation.model_fields["kind"].annotation)[0]
        yield annotation, tag


def _field_names(annotation: Any) -> list[str]:
    models = [option for option, _ in _alternatives(annotation) if _is_model(option)]
    return list(models[0].model_fields) if models else []


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
