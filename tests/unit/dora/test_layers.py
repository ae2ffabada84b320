"""DORA is a capability below deploy: deploy reports to DORA's writers, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import code_engine.dora

PACKAGE = Path(code_engine.dora.__file__).parent
# the operational metrics read CODE's routers; they leave with their own stream of work
EXEMPT = {"operations.py"}
FORBIDDEN = ("code_engine.deploy", "code_engine.assess", "code_engine.cli", "code_engine.api")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_dora_imports_no_other_capability_or_interface() -> None:
    leaks = {
        f"{path.name}: {name}"
        for path in sorted(PACKAGE.glob("*.py"))
        if path.name not in EXEMPT
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert leaks == set()
