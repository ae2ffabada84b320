"""A read-only view of a repository: its files listed once, each read and parsed at most once."""

from __future__ import annotations

import ast
import os
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from code_engine.assess import parsers
from code_engine.assess.gitfacts import GitFacts, list_files, read_facts, require_work_tree
from code_engine.assess.hosting import GitHubApi
from code_engine.assess.model import Evidence
from code_engine.assess.parsers import ParseError, Stage

T = TypeVar("T")
_YAML = (".yaml", ".yml")
# bytes read at most per file: configuration is parsed whole, so it gets less than source
CONFIG_MAX_BYTES = 256 * 1024
SOURCE_MAX_BYTES = 2 * 1024 * 1024
_CONFIG_SUFFIXES = frozenset(
    (".yaml", ".yml", ".json", ".toml", ".tf", ".hcl", ".cfg", ".ini", ".lock", ".rego")
)
_CONFIG_NAMES = frozenset(("dockerfile", "makefile", "codeowners", "containerfile"))
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def max_bytes(name: str) -> int:
    """How many bytes of `name` are read: configuration less than source."""
    base = basename(name).lower()
    if suffix(base) in _CONFIG_SUFFIXES or base in _CONFIG_NAMES or base.startswith("dockerfile"):
        return CONFIG_MAX_BYTES
    return SOURCE_MAX_BYTES


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
        self._findings: dict[str, Evidence] = {}
        self._links: set[str] = set()  # symbolic links, followed only inside the root
        self._refused: set[str] = set()  # links out and special files: never opened
        self._directories: dict[str, str | None] = {}
        self.github: GitHubApi | None = None  # the host's API, when a token was given

    @property
    def findings(self) -> tuple[Evidence, ...]:
        """Files refused while reading (links out, devices, oversized, YAML bombs), by name."""
        return tuple(self._findings[name] for name in sorted(self._findings))

    def note(self, name: str, line: int | None, message: str) -> None:
        """Record that `name` was refused; the first reason for a file is kept."""
        self._findings.setdefault(name, Evidence(name, line, message))

    @classmethod
    def open(
        cls, path: Path, now: datetime, drills: tuple[datetime, ...] | None = None
    ) -> RepoView:
        """The view of the work tree at `path`; `UserError` when it is not a git work tree."""
        root = path.resolve()
        require_work_tree(root)
        view = cls(root, list_files(root), read_facts(root), now, drills)
        view.inspect_links()
        return view

    def inspect_links(self) -> None:
        """Note every link out of the root and every special file, whether or not a check reads it.

        One `scandir` a directory (the entry types come with the listing); only links are
        resolved.
        """
        by_directory: dict[str, set[str]] = defaultdict(set)
        for name in self.files:
            parent, _, base = name.rpartition("/")
            by_directory[parent].add(base)
        for parent, names in by_directory.items():
            try:
                entries = list(os.scandir(os.path.join(self._root, parent)))  # noqa: PTH118
            except OSError:
                continue
            for entry in entries:
                if entry.name in names:
                    self._inspect(f"{parent}/{entry.name}" if parent else entry.name, entry)

    def _inspect(self, name: str, entry: os.DirEntry[str]) -> None:
        if entry.is_symlink():
            self._links.add(name)
            real = os.path.realpath(entry.path)
            if not _inside(self._root, real):
                self._refused.add(name)
                self.note(name, None, "symbolic link points outside the repository; not read")
            elif not os.path.exists(real):  # noqa: PTH110
                self._refused.add(name)
                self.note(name, None, "broken symbolic link; not read")
        elif not entry.is_file(follow_symlinks=False):
            mode = entry.stat(follow_symlinks=False).st_mode
            self._refused.add(name)
            self.note(name, None, f"{_kind(mode)}, not a regular file; not read")

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
        """The file's text; None when absent, binary or refused (see `findings`)."""
        if name not in self._text:
            self._text[name] = self._read(name)
        return self._text[name]

    def _read(self, name: str) -> str | None:
        """The text of a regular file inside the root, within its byte cap; else None and a note.

        Never follows a link out of the root and never opens a device, FIFO or socket: links
        and special files are known from `inspect_links`, directories are resolved once each,
        the file is opened without following links and without blocking, and the opened
        handle is checked again (the tree may change meanwhile).
        """
        if name not in self.files_set or name in self._refused:
            return None
        # os.path and open(): pathlib costs ~5 us a file, noticeable over 20,000 files
        parent, _, base = name.rpartition("/")
        directory = self._real_directory(parent)
        if directory is None:
            self.note(name, None, "a directory on its path links outside the repository; not read")
            return None
        path = os.path.join(directory, base)  # noqa: PTH118
        if name in self._links:
            path = os.path.realpath(path)
            if not _inside(self._root, path):
                self.note(name, None, "symbolic link points outside the repository; not read")
                return None
        cap = max_bytes(name)
        try:
            data = self._read_regular(name, path, cap)
        except FileNotFoundError:
            if name in self._links:
                self.note(name, None, "broken symbolic link; not read")
            return None
        except OSError as exc:
            self.note(name, None, f"cannot read file: {exc.strerror or exc}")
            return None
        if data is None or b"\0" in data[:8000]:
            return None
        return data.decode("utf-8", "replace")

    def _real_directory(self, parent: str) -> str | None:
        """The resolved directory of a repository path, or None when it leaves the root."""
        if not parent:
            return self._root
        if parent not in self._directories:
            real = os.path.realpath(os.path.join(self._root, parent))  # noqa: PTH118
            self._directories[parent] = real if _inside(self._root, real) else None
        return self._directories[parent]

    def _read_regular(self, name: str, real: str, cap: int) -> bytes | None:
        descriptor = os.open(real, _OPEN_FLAGS)
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                self.note(name, None, f"{_kind(info.st_mode)}, not a regular file; not read")
                return None
            if info.st_size > cap:
                self.note(name, None, f"{info.st_size} bytes, over the {cap}-byte cap; not read")
                return None
            chunks: list[bytes] = []
            size = 0
            while size <= cap:
                chunk = os.read(descriptor, cap + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(descriptor)
        if size > cap:
            self.note(name, None, f"grew over the {cap}-byte cap while read; not read")
            return None
        return b"".join(chunks)

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
        docs = self._cached("yaml", name, parsers.parse_yaml)
        if isinstance(docs, ParseError) and docs.message.startswith("YAML refused"):
            self.note(name, docs.line, docs.message)
        return docs

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
        doc = self._cached("hcl", name, parsers.parse_hcl)
        if isinstance(doc, ParseError):
            self.note(name, doc.line, doc.message)
        return doc

    def dockerfile(self, name: str) -> tuple[Stage, ...] | ParseError | None:
        return self._cached("dockerfile", name, parsers.parse_dockerfile)

    def makefile(self, name: str = "Makefile") -> dict[str, parsers.MakeTarget]:
        return self._cached("make", name, lambda _n, t: parsers.parse_makefile(t)) or {}

    def make_variables(self, name: str = "Makefile") -> dict[str, str]:
        parse = parsers.parse_make_variables
        return self._cached("make-variables", name, lambda _n, t: parse(t)) or {}

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


def _inside(root: str, real: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


def _parse_python(name: str, text: str) -> ast.Module | ParseError:
    try:
        return ast.parse(text, filename=name)
    except (SyntaxError, ValueError) as exc:
        line = exc.lineno if isinstance(exc, SyntaxError) else None
        return ParseError(name, line, f"invalid Python: {exc}")
    except (RecursionError, MemoryError):
        return ParseError(name, None, "Python refused: nested too deeply")
