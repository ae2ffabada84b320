"""Pinned packages from a lock file or from the running environment.

Formats: pip/uv `requirements*.txt` or `*.lock` (`name==version`, with or without
environment markers and hashes), `uv.lock` and `poetry.lock` (TOML `[[package]]` tables).
A universal lock may pin one package at several versions under different markers: every
pin is kept, since each is installed somewhere.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from code_engine.errors import InvalidFileError, Location, UserError

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*(?P<version>[^\s;\\#]+)"
)
_UNPINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*(;|<|>|~=|!=|$)")


@dataclass(frozen=True, order=True)
class Pin:
    """A package at one version, and where it was read (`file:line` or `environment`)."""

    name: str
    version: str
    origin: str = ""


def normalize(name: str) -> str:
    """The PEP 503 form of a distribution name: `Jinja2`, `jinja_2` -> `jinja2`, `jinja-2`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> list[Pin]:
    """The pins of a lock file, one per (package, version); bad input names file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the lock file: {exc}") from exc
    if path.name in ("uv.lock", "poetry.lock") or path.suffix == ".toml":
        return _unique(_toml_pins(path, text))
    return _unique(_requirement_pins(path, text))


def environment_pins() -> list[Pin]:
    """Every distribution installed in the running interpreter's environment."""
    pins = []
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            pins.append(Pin(normalize(name), dist.version, "environment"))
    return _unique(pins)


def _requirement_pins(path: Path, text: str) -> list[Pin]:
    pins: list[Pin] = []
    problems: list[Location] = []
    for number, raw in enumerate(_logical_lines(text), start=1):
        if raw is None:
            continue
        line = raw.strip()
        if not line or line.startswith(("#", "-", "--")):
            continue  # comments, options (-r, --hash, --index-url, -e)
        match = _PIN.match(line)
        if match is not None:
            pins.append(Pin(normalize(match["name"]), match["version"], f"{path}:{number}"))
        elif _UNPINNED.match(line):
            problems.append(
                Location(str(path), number, None, line.split(";")[0].strip(), "not pinned (==)")
            )
        elif "://" not in line and not line.startswith((".", "/")):
            problems.append(Location(str(path), number, None, "", f"unreadable line {line!r}"))
    if problems:
        raise InvalidFileError(problems=problems)
    return pins


def _logical_lines(text: str) -> list[str | None]:
    """Lines with `\\` continuations joined, kept at the number of their first line
    (continued lines become None so numbering stays that of the file)."""
    lines: list[str | None] = []
    pending: list[str] = []
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        if pending:
            lines.append(" ".join([*pending, line]))
            lines.extend([None] * len(pending))
            pending = []
        else:
            lines.append(line)
    if pending:
        lines.append(" ".join(pending))
    return lines


def _toml_pins(path: Path, text: str) -> list[Pin]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not a TOML lock file: {exc}") from exc
    packages = data.get("package")
    if not isinstance(packages, list):
        raise UserError(f"{path}: package: no [[package]] tables (not a uv or poetry lock)")
    pins = []
    for index, package in enumerate(packages):
        if not isinstance(package, dict):
            raise UserError(f"{path}: package.{index}: not a table")
        name, version = package.get("name"), package.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            # uv's own editable/virtual root package carries no version worth scanning
            if isinstance(name, str) and isinstance(package.get("source"), dict):
                continue
            raise UserError(f"{path}: package.{index}: needs a name and a version")
        pins.append(Pin(normalize(name), version, f"{path}: package {name}"))
    return pins


def _unique(pins: list[Pin]) -> list[Pin]:
    seen: dict[tuple[str, str], Pin] = {}
    for pin in pins:
        seen.setdefault((pin.name, pin.version), pin)
    return sorted(seen.values())
