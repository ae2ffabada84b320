"""A read-only view of a repository: its files listed once, each read and parsed at most once."""

from __future__ import annotations

import ast
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from code_engine.assess import parsers
from code_engine.assess.gitfacts import GitFacts, list_files, read_facts, require_work_tree
from code_engine.assess.parsers import ParseError, Stage
from code_engine.errors import UserError

T = TypeVar("T")
_YAML = (".yaml", ".yml")


class RepoView:
    """Files of a work tree with lazy, cached reading and parsing, plus git facts."""

    def __init__(
        self,
        root: Path,
        files: Iterable[str],
        git: GitFacts,
        now: datetime,
        drills: tuple[datetime, ...] | None = None,
    ) -> None:
        self.root = root
        self._root = str(root)
        self.files = tuple(files)
        self.git = git
        self.now = now
        self.drills = drills
        self.files_set = frozenset(self.files)
        self._by_suffix: dict[str, list[str]] = defaultdict(list)
        self._by_name: dict[str, list[str]] = defaultdict(list)
        for name in self.files:
            self._by_suffix[suffix(name).lower()].append(name)
            self._by_name[basename(name).lower()].append(name)
        self._text: dict[str, str | None] = {}
        self._parsed: dict[tuple[str, str], Any] = {}
        self._memo: dict[str, Any] = {}

    @classmethod
    def open(
        cls, path: Path, now: datetime, drills: tuple[datetime, ...] | None = None
    ) -> RepoView:
        """The view of the work tree at `path`; `UserError` when it is not a git work tree."""
        root = path.resolve()
        require_work_tree(root)
        return cls(root, list_files(root), read_facts(root), now, drills)

    # -- finding files (path-based, no reading) --------------------------------------------
    def exists(self, name: str) -> bool:
        return name in self.files_set

    def first(self, *names: str) -> str | None:
        """The first of `names` that exists."""
        return next((n for n in names if n in self.files_set), None)

    def with_suffix(self, *suffixes: str) -> list[str]:
        return [f for s in suffixes for f in self._by_suffix.get(s, ())]

    def named(self, *basenames: str) -> list[str]:
        """Files whose base name is one of `basenames` (case-insensitive), anywhere."""
        return sorted(f for b in basenames for f in self._by_name.get(b.lower(), ()))

    def yaml_files(self) -> list[str]:
        return self.with_suffix(*_YAML)

    # -- reading -------------------------------------------------------------------------
    def text(self, name: str) -> str | None:
        """The file's text (None when absent or binary); an unreadable file is a `UserError`."""
        if name not in self._text:
            self._text[name] = self._read(name)
        return self._text[name]

    def _read(self, name: str) -> str | None:
        if name not in self.files_set:
            return None
        try:
            # os.path and open(): pathlib costs ~5 us a file, noticeable over 20,000 files
            with open(os.path.join(self._root, name), "rb") as handle:  # noqa: PTH118, PTH123
                data = handle.read()
        except FileNotFoundError:
            if (self.root / name).is_symlink():
                raise UserError(f"{name}: cannot read file: broken symbolic link") from None
            return None
        except OSError as exc:
            raise UserError(f"{name}: cannot read file: {exc.strerror or exc}") from exc
        if b"\0" in data[:8000]:
            return None
        return data.decode("utf-8", "replace")

    def _cached(self, kind: str, name: str, parse: Callable[[str, str], T]) -> T | None:
        key = (kind, name)
        if key not in self._parsed:
            text = self.text(name)
            self._parsed[key] = None if text is None else parse(name, text)
        result: T | None = self._parsed[key]
        return result

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A derived fact computed once per view (e.g. every CI command, every manifest)."""
        if key not in self._memo:
            self._memo[key] = compute()
        result: T = self._memo[key]
        return result

    # -- parsing (each file at most once per kind) --------------------------------------------
    def yaml(self, name: str) -> list[Any] | ParseError | None:
        """All documents of a YAML file, a `ParseError`, or None when absent."""
        return self._cached("yaml", name, parsers.parse_yaml)

    def yaml_doc(self, name: str) -> Any:
        """The first YAML document, a `ParseError`, or None when absent or empty."""
        docs = self.yaml(name)
        if isinstance(docs, ParseError):
            return docs
        return docs[0] if docs else None

    def json(self, name: str, *, comments: bool = False) -> Any:
        kind = "jsonc" if comments else "json"
        return self._cached(kind, name, lambda n, t: parsers.parse_json(n, t, comments=comments))

    def toml(self, name: str) -> dict[str, Any] | ParseError | None:
        return self._cached("toml", name, parsers.parse_toml)

    def hcl(self, name: str) -> dict[str, Any] | ParseError | None:
        return self._cached("hcl", name, parsers.parse_hcl)

    def dockerfile(self, name: str) -> tuple[Stage, ...] | ParseError | None:
        return self._cached("dockerfile", name, parsers.parse_dockerfile)

    def makefile(self, name: str = "Makefile") -> dict[str, parsers.MakeTarget]:
        return self._cached("make", name, lambda _n, t: parsers.parse_makefile(t)) or {}

    def python(self, name: str) -> ast.Module | ParseError | None:
        return self._cached("python", name, _parse_python)


# string helpers: PurePosixPath costs ~5 us a call, too much for 20,000 names
def basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def directories(name: str) -> list[str]:
    """The directory components of a repository path."""
    return name.split("/")[:-1]


def suffix(name: str) -> str:
    base = basename(name)
    dot = base.rfind(".")
    return base[dot:] if dot > 0 else ""


def stem(name: str) -> str:
    base = basename(name)
    dot = base.rfind(".")
    return base[:dot] if dot > 0 else base


def _parse_python(name: str, text: str) -> ast.Module | ParseError:
    try:
        return ast.parse(text, filename=name)
    except (SyntaxError, ValueError) as exc:
        line = exc.lineno if isinstance(exc, SyntaxError) else None
        return ParseError(name, line, f"invalid Python: {exc}")
