"""What the application's Python code imports, read with `ast` (tests excluded)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from code_engine.assess.model import Evidence
from code_engine.assess.repo import RepoView, basename, directories

_TEST_DIRS = frozenset({"tests", "test", "testing", "benchmarks", "docs", "examples"})


def application_files(view: RepoView) -> list[str]:
    """Python files of the application: no tests, benchmarks, docs or examples."""
    result: list[str] = []
    for name in view.with_suffix(".py"):
        base = basename(name)
        if _TEST_DIRS.intersection(directories(name)):
            continue
        if base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py":
            continue
        result.append(name)
    return result


def imports(view: RepoView, *modules: str, files: Iterable[str] | None = None) -> list[Evidence]:
    """Where application code (or only `files` of it) imports any of `modules`."""
    found: list[Evidence] = []
    roots = sorted({re.escape(m.split(".")[0]) for m in modules})
    # only files with an import line naming the module are worth parsing; ast decides
    hint = re.compile(rf"^[ \t]*(?:from|import)[ \t]+(?:{'|'.join(roots)})\b", re.MULTILINE)
    for name in application_files(view) if files is None else files:
        text = view.text(name)
        if text is None or hint.search(text) is None:
            continue
        tree = view.python(name)
        if not isinstance(tree, ast.Module):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for imported in _imported(node):
                if any(imported == m or imported.startswith(m + ".") for m in modules):
                    found.append(Evidence(name, node.lineno, f"imports {imported}"))
                    break
    return found


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []
