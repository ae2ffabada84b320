"""What Go and JavaScript/TypeScript application code imports, and which package manifests
declare dependencies (Python's pyproject, setup.cfg, setup.py and uv workspaces, go.mod,
package.json). Tests, vendored code and node_modules are left out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from code_engine.assess.model import Evidence
from code_engine.assess.parsers import ParseError
from code_engine.assess.repo import RepoView, basename, directories

_SKIPPED_DIRS = frozenset(
    {"vendor", "node_modules", "testdata", "tests", "test", "__tests__", "examples", "docs"}
)
_JS = (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".mts", ".cts")
_GO_IMPORT = re.compile(r'^\s*(?:import\s+)?(?:[\w.]+\s+)?"([^"\s]+)"', re.MULTILINE)
_JS_IMPORT = re.compile(
    r"""(?:^|[\s;])(?:import\s[^'"]*?from\s*|import\s*|require\(\s*|import\(\s*)['"]([^'"]+)['"]""",
    re.MULTILINE,
)


def _application(name: str) -> bool:
    base = basename(name)
    if _SKIPPED_DIRS.intersection(directories(name)):
        return False
    return not (base.endswith("_test.go") or ".test." in base or ".spec." in base)


def source_files(view: RepoView, ecosystem: str) -> list[str]:
    """Go or JavaScript/TypeScript application files (no tests, vendored code or examples)."""
    suffixes = (".go",) if ecosystem == "go" else _JS
    return [name for name in view.with_suffix(*suffixes) if _application(name)]


def go_imports(
    view: RepoView, prefixes: Iterable[str], files: Iterable[str] | None = None
) -> list[Evidence]:
    """Where Go application code (or only `files` of it) imports a package under one of
    `prefixes`."""
    wanted = tuple(prefixes)
    found: list[Evidence] = []
    for name in source_files(view, "go") if files is None else files:
        text = view.text(name)
        if text is None or not any(p in text for p in wanted):
            continue
        for match in _GO_IMPORT.finditer(_import_section(text)):
            path = match.group(1)
            if any(path == p or path.startswith(p + "/") for p in wanted):
                line = text.count("\n", 0, match.start(1)) + 1
                found.append(Evidence(name, line, f"imports {path}"))
                break
    return found


def _import_section(text: str) -> str:
    """The text up to the first declaration after the imports (imports come first in Go)."""
    end = re.search(r"^(?:func|type|var|const)\s", text, re.MULTILINE)
    return text[: end.start()] if end else text


def js_imports(
    view: RepoView, packages: Iterable[str], files: Iterable[str] | None = None
) -> list[Evidence]:
    """Where JavaScript/TypeScript application code (or only `files` of it) imports or
    requires one of `packages`."""
    wanted = tuple(packages)
    found: list[Evidence] = []
    for name in source_files(view, "javascript") if files is None else files:
        text = view.text(name)
        if text is None or not any(p in text for p in wanted):
            continue
        for match in _JS_IMPORT.finditer(text):
            module = match.group(1)
            if any(module == p or module.startswith(p + "/") for p in wanted):
                line = text.count("\n", 0, match.start(1)) + 1
                found.append(Evidence(name, line, f"imports {module}"))
                break
    return found


def manifests(view: RepoView) -> list[Evidence]:
    """Package manifests that declare a package and its dependencies, one evidence each."""
    found = _uv_workspace(view)
    for name in view.named("setup.cfg"):
        text = view.text(name) or ""
        if re.search(r"^\[options\]", text, re.MULTILINE) and "install_requires" in text:
            found.append(Evidence(name, _line(text, "install_requires"), "setup.cfg"))
    for name in view.named("setup.py"):
        text = view.text(name) or ""
        if re.search(r"\bsetup\s*\(", text) and "install_requires" in text:
            found.append(Evidence(name, _line(text, "install_requires"), "setup.py"))
    for name in view.named("go.mod"):
        text = view.text(name) or ""
        if re.search(r"^module\s+\S+", text, re.MULTILINE):
            requires = len(re.findall(r"^\s*(?:require\s+)?[\w.-]+\.[\w./-]+\s+v\S+", text, re.M))
            found.append(Evidence(name, 1, f"go.mod, {requires} requirements"))
    for name in view.named("package.json"):
        if "node_modules" in directories(name):
            continue
        data = view.json(name)
        if (
            isinstance(data, dict)
            and data.get("name")
            and isinstance(data.get("dependencies"), dict)
        ):
            found.append(
                Evidence(name, 1, f"package.json, {len(data['dependencies'])} dependencies")
            )
    return found


def _uv_workspace(view: RepoView) -> list[Evidence]:
    """Members of a uv workspace (`[tool.uv.workspace] members`) with a `[project]` each."""
    root = view.toml("pyproject.toml")
    workspace = (
        root.get("tool", {}).get("uv", {}).get("workspace") if isinstance(root, dict) else None
    )
    members = workspace.get("members") if isinstance(workspace, dict) else None
    if not isinstance(members, list):
        return []
    found: list[Evidence] = []
    for name in view.named("pyproject.toml"):
        folder = name.rpartition("/")[0]
        if folder and any(_glob(str(m), folder) for m in members):
            data = view.toml(name)
            if isinstance(data, dict) and not isinstance(data, ParseError):
                if isinstance(data.get("project"), dict):
                    found.append(Evidence(name, 1, "uv workspace member"))
    return found


def _glob(pattern: str, folder: str) -> bool:
    regex = re.escape(pattern.strip("/")).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(regex, folder) is not None


def _line(text: str, word: str) -> int:
    return text.count("\n", 0, max(text.find(word), 0)) + 1


LOCKS = {
    "python": ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "pylock.toml"),
    "go": ("go.sum",),
    "javascript": ("package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock"),
}


@dataclass(frozen=True)
class Package:
    """One package of a (possibly monorepo) repository: its manifest and ecosystem."""

    manifest: str
    ecosystem: str

    @property
    def directory(self) -> str:
        return self.manifest.rpartition("/")[0]


def packages(view: RepoView) -> list[Package]:
    """The packages of the application (tests, examples, vendored code left out)."""
    found: list[Package] = []
    for name in view.named("pyproject.toml"):
        data = view.toml(name)
        if _application(name) and isinstance(data, dict) and isinstance(data.get("project"), dict):
            found.append(Package(name, "python"))
    found.extend(Package(n, "go") for n in view.named("go.mod") if _application(n))
    found.extend(Package(n, "javascript") for n in view.named("package.json") if _application(n))
    return sorted(found, key=lambda p: p.manifest)


def lock_of(view: RepoView, package: Package) -> str | None:
    """The lock file of a package: beside its manifest or, for a workspace, in a parent
    directory (Go modules lock beside `go.mod` only)."""
    folder = package.directory
    while True:
        for lock in LOCKS[package.ecosystem]:
            name = f"{folder}/{lock}" if folder else lock
            if view.exists(name):
                return name
        if not folder or package.ecosystem == "go":
            return None
        folder = folder.rpartition("/")[0]
