"""The store protocol: immutable objects by name, written whole or not at all."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol


class Store(Protocol):
    """A place for snapshot objects. `put` never leaves a partial object under its name."""

    @property
    def url(self) -> str: ...

    def put(self, name: str, path: Path) -> None:
        """Store the file at `path` under `name` (refuses to replace an existing object)."""

    def open(self, name: str) -> AbstractContextManager[BinaryIO]:
        """Read an object; `IntegrityError` when it does not exist."""

    def names(self, prefix: str) -> list[str]:
        """Every object name under `prefix`, sorted."""

    def delete(self, name: str) -> None:
        """Remove an object (absent is fine)."""

    def staging(self) -> Path:
        """A local directory for files on their way into the store."""
