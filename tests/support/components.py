"""Real components the tests drive (HAProxy, Prometheus, Chromium, PostgreSQL).

Missing one skips its tests on a developer's machine; with `CODE_TEST_REQUIRE_<NAME>=1` (set by
CI) it fails them instead, so CI never goes green by not testing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest


def required(component: str) -> bool:
    """Whether CI demands `component` (`CODE_TEST_REQUIRE_<COMPONENT>=1`)."""
    return os.environ.get(f"CODE_TEST_REQUIRE_{component.upper()}") == "1"


def missing(component: str, reason: str) -> NoReturn:
    """Skip the test for a missing component, or fail it when the component is required."""
    flag = f"CODE_TEST_REQUIRE_{component.upper()}"
    if required(component):
        pytest.fail(f"{flag}=1 but {reason}")
    pytest.skip(f"{reason} ({flag}=1 turns this skip into a failure)")


def root(reason: str) -> None:
    """Go on only as root (mounting a filesystem, switching users), else `missing("root", ...)`."""
    if os.geteuid() != 0:
        missing("root", f"{reason} needs root")


def binary(name: str, component: str, install: str, *fallbacks: str) -> str:
    """The path of the executable `name` (PATH, then `fallbacks`), or `missing(...)`."""
    found = shutil.which(name) or next((f for f in fallbacks if Path(f).exists()), None)
    if found is None:
        missing(component, f"no {name} binary ({install})")
    return found
