"""A directory (CODE's data directory with its signing keys, or a service's files) as a tar.

A restore extracts beside the target under a temporary name and renames it into place.
"""

from __future__ import annotations

import fnmatch
import os
import tarfile
from pathlib import Path
from typing import Any, BinaryIO, cast

from code_engine.dr.errors import DrError, IntegrityError, TargetExistsError
from code_engine.dr.sources.base import (
    COPY_BLOCK,
    CheckReport,
    Readable,
    Writable,
    os_error,
    remove_path,
)


class DirectorySource:
    kind = "directory"

    def __init__(self, name: str, path: Path, exclude: tuple[str, ...] = ()) -> None:
        self.name, self.path, self.exclude = name, path, exclude

    def describe(self) -> str:
        return str(self.path)

    def versions(self) -> tuple[str, dict[str, str]]:
        return "files", {"tar": "Python tarfile (pax)"}

    def _excluded(self, rel: str) -> bool:
        return any(fnmatch.fnmatch(rel, p) or rel.startswith(p.rstrip("*")) for p in self.exclude)

    def dump(self, out: Writable, scratch: Path) -> dict[str, Any]:  # noqa: ARG002
        if not self.path.is_dir():
            raise DrError(f"{self.path}: directory not found")
        files = size = 0
        with tarfile.open(fileobj=cast(BinaryIO, out), mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for root, dirs, names in os.walk(self.path):
                base = Path(root)
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if not self._excluded((base / d).relative_to(self.path).as_posix())
                )
                for name in sorted(names):
                    path = base / name
                    rel = path.relative_to(self.path).as_posix()
                    if self._excluded(rel) or not (path.is_file() or path.is_symlink()):
                        continue
                    try:
                        tar.add(path, arcname=rel, recursive=False)
                    except FileNotFoundError:
                        continue  # removed while we walked: not part of this snapshot
                    files += 1
                    size += path.lstat().st_size
        return {"files": files, "file_bytes": size}

    def beside(self, snapshot_id: str) -> str:
        return str(self.path.with_name(f"{self.path.name}.restored-{snapshot_id}"))

    def live(self) -> str:
        return str(self.path)

    def restore(self, data: Readable, target: str, scratch: Path) -> None:  # noqa: ARG002
        final = Path(target)
        if final.exists():
            raise TargetExistsError(f"{final}: exists; give another --target")
        temp = final.with_name(f".{final.name}.restoring-{os.getpid()}")
        remove_path(temp)
        try:
            temp.mkdir(parents=True)
            with tarfile.open(fileobj=cast(BinaryIO, data), mode="r|") as tar:
                tar.extractall(temp, filter="data")
            while data.read(COPY_BLOCK):  # authenticate to the last chunk before renaming
                pass
            temp.rename(final)
        except OSError as exc:
            raise os_error(exc, str(final)) from None
        except tarfile.TarError as exc:
            raise IntegrityError(f"{final}: the archive is damaged ({exc})") from None
        finally:
            remove_path(temp)

    def check(self, target: str, smoke: tuple[str, ...]) -> CheckReport:
        root = Path(target)
        if not root.is_dir():
            raise IntegrityError(f"{target}: restored directory missing")
        files = [p for p in root.rglob("*") if p.is_file()]
        checks: dict[str, Any] = {
            "files": len(files),
            "file_bytes": sum(p.stat().st_size for p in files),
        }
        for pattern in smoke:
            if not list(root.glob(pattern)):
                raise IntegrityError(f"{target}: expected {pattern!r} in the restored directory")
            checks[pattern] = "present"
        return CheckReport(target, checks)

    def replace_live(self, target: str, snapshot_id: str) -> str:
        """Swap each restored top-level entry in; excluded entries (the store) stay put."""
        old = self.path.with_name(f"{self.path.name}.before-{snapshot_id}")
        old.mkdir(parents=True, exist_ok=True)
        self.path.mkdir(parents=True, exist_ok=True)
        for entry in sorted(Path(target).iterdir()):
            live = self.path / entry.name
            if live.exists() or live.is_symlink():
                live.rename(old / entry.name)
            entry.rename(live)
        remove_path(Path(target))
        return str(old)

    def discard(self, target: str) -> None:
        remove_path(Path(target))
