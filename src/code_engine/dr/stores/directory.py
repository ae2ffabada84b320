"""A store in a local directory: write to a staging file, fsync, then rename into place."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from code_engine.dr.errors import DiskFullError, DrError, IntegrityError

STAGING = ".staging"


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()

    @property
    def url(self) -> str:
        return str(self.root)

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if self.root not in path.parents:
            raise DrError(f"object name {name!r} leaves the store")
        return path

    def staging(self) -> Path:
        path = self.root / STAGING
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DrError(f"{self.root}: cannot create the store ({exc.strerror})") from None
        return path

    def put(self, name: str, path: Path) -> None:
        target = self._path(name)
        if target.exists():
            raise DrError(f"{self.url}/{name}: exists already; snapshots are never rewritten")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.parent == self.root / STAGING:
                with path.open("rb+") as handle:
                    os.fsync(handle.fileno())
                os.link(path, target)  # fails if `target` appeared meanwhile: never overwrites
                path.unlink()
            else:
                part = self.staging() / f"{target.name}.part"
                shutil.copyfile(path, part)
                self.put(name, part)
                return
            _fsync_dir(target.parent)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DiskFullError(f"{self.url}: no space left for {name}") from None
            raise DrError(f"{self.url}/{name}: cannot store ({exc.strerror})") from None

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        try:
            handle = self._path(name).open("rb")
        except FileNotFoundError:
            raise IntegrityError(f"{self.url}/{name}: object missing") from None
        with handle:
            yield handle

    def names(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        found = []
        for path in base.rglob("*"):
            rel = path.relative_to(self.root).as_posix()
            if path.is_file() and not rel.startswith(STAGING):
                found.append(rel)
        return sorted(found)

    def delete(self, name: str) -> None:
        path = self._path(name)
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
