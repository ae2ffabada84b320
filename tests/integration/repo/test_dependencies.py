"""Declared dependencies match the imports: every third-party package that `src/` imports is a
runtime dependency of `pyproject.toml`, every one that the tests and benchmarks import is a
runtime or development dependency, and no runtime dependency goes unused.

Import names are mapped to their distributions through the files each installed distribution
records (`opentelemetry.sdk` belongs to `opentelemetry-sdk`, `jwt` to `pyjwt`), so the check
reads what is really installed rather than a hand-kept table.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections import defaultdict
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCAL = {"code_engine", "tests", "benchmarks", "conftest"}  # conftest: a benchmark reuses one

# Declared runtime dependencies that no module imports by name, and why each is needed.
USED_WITHOUT_IMPORT = {
    "python-multipart": "FastAPI parses the form bodies of the OAuth2 token endpoint with it",
    "kubernetes-validate": "its Kubernetes JSON schemas are read as package data (importlib)",
    "tzdata": "zoneinfo reads the IANA zones of environments from it where the system has none",
}


def _requirements(specs: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(spec).name) for spec in specs}


RUNTIME = _requirements(PYPROJECT["project"]["dependencies"])
DEV = _requirements(PYPROJECT["project"]["optional-dependencies"]["dev"])


def imported_modules(paths: list[Path]) -> dict[str, set[str]]:
    """Every absolute import (and `importlib.import_module("literal")`) of the files under
    `paths`, dotted name -> files that import it."""
    found: dict[str, set[str]] = defaultdict(set)
    for base in paths:
        for path in base.rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            where = str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        found[alias.name].add(where)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found[node.module].add(where)
                    for alias in node.names:  # `from opentelemetry import trace` (a module)
                        found[f"{node.module}.{alias.name}"].add(where)
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "import_module"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found[node.args[0].value].add(where)
    return found


@cache
def module_owners() -> dict[str, frozenset[str]]:
    """Dotted module name -> the installed distributions whose files provide it."""
    owners: dict[str, set[str]] = defaultdict(set)
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")):
                continue
            stem = parts[-1].split(".", 1)[0]
            if not parts[-1].endswith((".py", ".so", ".pyd")):
                continue
            module = [*parts[:-1], stem] if stem != "__init__" else list(parts[:-1])
            if module and all(part.isidentifier() for part in module):
                owners[".".join(module)].add(name)
    return {module: frozenset(names) for module, names in owners.items()}


def owners_of(module: str) -> frozenset[str]:
    """The distributions that provide `module`: those of its longest dotted prefix that is a
    module (namespace packages such as `opentelemetry` or `ruamel` are shared by several;
    `from pkg import name` names an attribute, not a module)."""
    owners = module_owners()
    parts = module.split(".")
    prefixes = [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
    found = next((owners[p] for p in prefixes if p in owners), None)
    if found is None:  # a namespace package: the distributions of its modules
        inside = [dists for name, dists in owners.items() if name.startswith(f"{module}.")]
        found = frozenset().union(*inside)
    return found


def third_party(imports: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """Imported module -> its distributions, for every import that is not stdlib or ours."""
    return {
        module: owners_of(module)
        for module in imports
        if module.split(".")[0] not in LOCAL | sys.stdlib_module_names
    }


def undeclared(imports: dict[str, set[str]], declared: set[str]) -> dict[str, list[str]]:
    """Distribution (or module, when nothing installed provides it) -> the files importing
    it, for each import none of whose distributions is declared."""
    missing: dict[str, set[str]] = defaultdict(set)
    for module, dists in third_party(imports).items():
        if not dists & declared:
            missing[", ".join(sorted(dists)) or module.split(".")[0]] |= imports[module]
    return {name: sorted(files) for name, files in sorted(missing.items())}


def test_every_package_src_imports_is_a_runtime_dependency() -> None:
    missing = undeclared(imported_modules([ROOT / "src"]), RUNTIME)
    assert missing == {}, "add their distributions to [project] dependencies"


def test_no_runtime_dependency_goes_unused() -> None:
    used = set().union(*third_party(imported_modules([ROOT / "src"])).values())
    unused = sorted(RUNTIME - used - set(USED_WITHOUT_IMPORT))
    assert unused == [], "declared in [project] dependencies but never imported by src/"
    assert sorted(set(USED_WITHOUT_IMPORT) - RUNTIME) == [], "not declared at all"
    imported_after_all = sorted(set(USED_WITHOUT_IMPORT) & used)
    assert imported_after_all == [], "imported now: drop it from USED_WITHOUT_IMPORT"


def test_every_package_tests_and_benchmarks_import_is_declared() -> None:
    imports = imported_modules([ROOT / "tests", ROOT / "benchmarks", ROOT / "scripts"])
    assert undeclared(imports, RUNTIME | DEV) == {}, "add their distributions to the dev extra"


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    """The check itself can fail: an import of an installed but undeclared package is found."""
    module = tmp_path / "module.py"
    module.write_text("import execnet\nimport no_such_package\nfrom yaml import safe_load\n")
    assert undeclared(imported_modules([tmp_path]), {"pyyaml"}) == {
        "execnet": [str(module)],
        "no_such_package": [str(module)],
    }
