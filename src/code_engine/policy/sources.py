"""Where policy files come from: a service's repository at a release's commit (`policies:`
of its `code.yaml`), or the server's own paths (`CODE_POLICY_PATHS`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from code_engine.errors import ConfigError, Location, UserError
from code_engine.policy.model import PolicySet, Source, load_error
from code_engine.policy.rego import compile_set
from code_engine.spec import PolicyBundle

DEFAULT_OPERATOR_QUERY = "data.code.deny"

ListFiles = Callable[[str], list[str]]  # paths of the files under a directory (or the file)
ReadFile = Callable[[str], "str | None"]


def is_policy_file(path: str) -> bool:
    return path.endswith(".rego") and not path.endswith("_test.rego")


def from_tree(
    bundle: PolicyBundle, list_files: ListFiles, read: ReadFile, label: str = ""
) -> PolicySet:
    """The bundle's files as a tree (a commit) has them; `label` (e.g. `@abc123`) is added to
    each name. A bundle without a single policy file is an error: it would decide nothing."""
    paths = sorted(p for p in list_files(bundle.path.rstrip("/")) if is_policy_file(p))
    sources = []
    for path in paths:
        text = read(path)
        if text is not None:
            sources.append(Source(f"{path}{label}", text))
    if not sources:
        raise UserError(f"code.yaml: policies: {bundle.path}{label} holds no .rego policy file")
    return PolicySet(bundle.path, bundle.query, tuple(sources))


def from_directory(path: Path, query: str, origin: str = "operator") -> PolicySet:
    """A bundle on disk: a `.rego` file or a directory of them (tests left out)."""
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*.rego") if is_policy_file(p.name))
    else:
        raise ConfigError(f"{path}: no such policy file or directory")
    if not files:
        raise ConfigError(f"{path}: holds no .rego policy file")
    sources = tuple(Source(str(f), f.read_text(encoding="utf-8")) for f in files)
    return PolicySet(str(path), query, sources, origin)


def parse_paths(text: str) -> list[tuple[Path, str]]:
    """`CODE_POLICY_PATHS`: comma-separated `PATH` or `PATH#QUERY` (default data.code.deny)."""
    entries = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        path, _, query = item.partition("#")
        entries.append((Path(path).expanduser(), query.strip() or DEFAULT_OPERATOR_QUERY))
    return entries


def operator_sets(text: str) -> list[PolicySet]:
    """The operator-wide policy sets of `CODE_POLICY_PATHS`, read now."""
    return [from_directory(path, query) for path, query in parse_paths(text)]


def check_sets(sets: Iterable[PolicySet]) -> None:
    """Compile every set; PolicyLoadError lists each problem as file:line."""
    problems: list[Location] = []
    for policy in sets:
        try:
            compile_set(policy)
        except UserError as exc:
            problems.extend(
                getattr(exc, "problems", None) or [Location(policy.name, None, None, "", str(exc))]
            )
    if problems:
        raise load_error(problems)
