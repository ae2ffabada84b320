"""Command templates of the local target: `{python} -m uvicorn app:app --port {port}`."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from code_engine.errors import ConfigError

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace `{name}` by `values[name]`; `{{` and `}}` stand for literal braces.

    An unknown placeholder is an error, so a typo never reaches a running process.
    """

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name not in values:
            known = ", ".join(f"{{{k}}}" for k in sorted(values))
            raise ConfigError(f"unknown placeholder {token} in {template!r} (known: {known})")
        return values[name]

    return _PLACEHOLDER.sub(substitute, template)


def command_argv(template: str, values: Mapping[str, str]) -> list[str]:
    """Split the template like a shell would (no shell runs), then fill each word."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise ConfigError(f"cannot parse command {template!r}: {exc}") from exc
    if not words:
        raise ConfigError("the command of the local target is empty")
    return [render(word, values) for word in words]


def render_env(env: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """Environment values may use the same placeholders (`HELLO_VERSION: "{version}"`)."""
    return {name: render(str(value), values) for name, value in env.items()}
