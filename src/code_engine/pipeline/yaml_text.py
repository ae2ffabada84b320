"""YAML written the way people write workflows: block mappings, short lists inline, commands
as literal blocks, and a trailing comment where one says what a pinned SHA stands for."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import yaml


class Commented(str):
    """A scalar followed by a comment, e.g. an action's SHA and its release."""

    comment: str

    def __new__(cls, value: str, comment: str | None) -> Commented:
        made = super().__new__(cls, value)
        made.comment = comment or ""
        return made


Node = Mapping[str, "Node"] | Sequence["Node"] | str | int | bool | None


def dump(document: Mapping[str, Node]) -> str:
    """The document as YAML text, keys in their given order."""
    return "".join(f"{line}\n" for line in _mapping(document, 0))


def _mapping(mapping: Mapping[str, Node], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in mapping.items():
        head = f"{pad}{key}:"
        if isinstance(value, Mapping):
            lines += [f"{head} {{}}"] if not value else [head, *_mapping(value, indent + 2)]
        elif isinstance(value, list | tuple):
            if value and any(isinstance(item, Mapping) for item in value):
                lines += [head, *_sequence(value, indent + 2)]
            else:
                lines.append(f"{head} [{', '.join(_scalar(item) for item in value)}]")
        elif isinstance(value, str) and "\n" in value.rstrip("\n"):
            lines.append(f"{head} |")
            lines += [f"{pad}  {text}".rstrip() for text in value.rstrip("\n").split("\n")]
        elif value is None:
            lines.append(head)
        else:
            lines.append(f"{head} {_scalar(value)}")
    return lines


def _sequence(items: Sequence[Node], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            body = _mapping(item, indent + 2)
            lines += [f"{pad}- {body[0].lstrip()}", *body[1:]]
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines


def _scalar(value: Node) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    comment = f" # {value.comment}" if isinstance(value, Commented) and value.comment else ""
    try:
        plain = yaml.safe_load(f"k: {text}") == {"k": text} and "#" not in text
    except yaml.YAMLError:
        plain = False
    return (text if plain and text.strip() == text else json.dumps(text)) + comment
