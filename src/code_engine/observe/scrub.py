"""Secret values this process has seen, and their removal from text (log lines, errors).

The values live in memory only. The `secrets` capability adds every value it resolves;
the logging pipeline (observe.logging) replaces them in every log line.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"
MIN_LENGTH = 4  # shorter values would mask ordinary words; such a secret is no secret

_lock = threading.Lock()
_values: set[str] = set()


def remember(values: Iterable[str]) -> None:
    """Redact `values` from now on in this process."""
    with _lock:
        _values.update(v for v in values if len(v) >= MIN_LENGTH)


def forget_all() -> None:
    """Clear the remembered values (tests)."""
    with _lock:
        _values.clear()


def scrub_text(text: str) -> str:
    """`text` with every remembered value replaced by the mask, longest first."""
    with _lock:
        values = sorted(_values, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def scrub_value(value: Any) -> Any:
    """A log field with remembered values masked (strings, and inside lists and dicts)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(item) for item in value)
    if isinstance(value, BaseException):
        return scrub_text(str(value))
    return value
