"""Reading fields out of decoded webhook JSON, with `field path: message` errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from code_engine.dora.events import PayloadError, parse_timestamp

_MISSING = object()


def lookup(payload: object, path: str) -> object:
    """The value at a dotted path, or a sentinel when any step is absent or not an object."""
    value: object = payload
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def require_mapping(payload: object, path: str = "body") -> Mapping[str, Any]:
    """The object at `path` (`body` for the payload itself)."""
    value = payload if path == "body" else lookup(payload, path)
    if not isinstance(value, Mapping):
        problem = "missing" if value is _MISSING else "expected a JSON object"
        raise PayloadError([f"{path}: {problem}"])
    return value


def text(payload: object, path: str, *, required: bool = True) -> str:
    """A non-empty string (numbers are accepted and written in decimal); '' when optional."""
    value = lookup(payload, path)
    if isinstance(value, bool):
        value = _MISSING
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if not required and (value is _MISSING or value is None or value == ""):
        return ""
    problem = "missing" if value is _MISSING or value is None else "expected a non-empty string"
    raise PayloadError([f"{path}: {problem}"])


def timestamp(payload: object, path: str) -> datetime:
    """An RFC 3339 timestamp with an offset, in UTC."""
    value = lookup(payload, path)
    if value is _MISSING or value is None:
        raise PayloadError([f"{path}: missing"])
    return parse_timestamp(value, path)
