"""Instance log files: where they live, size-based rotation, the last lines of a file.

An instance writes straight into its log file (opened in append mode), so it keeps
logging while no controller runs. Rotation copies the file aside and truncates it in
place (what logrotate calls copytruncate): the instance never has to reopen anything.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")


@dataclass(frozen=True)
class LogLimits:
    """Rotate a log above `max_bytes`, keeping `keep` rotated files (`.1` newest)."""

    max_bytes: int = 10 * 1024 * 1024
    keep: int = 3


def environment_log_dir(data_dir: Path, service: str, environment: str) -> Path:
    return data_dir / "logs" / safe_name(service) / safe_name(environment)


def instance_log_path(log_dir: Path, version: str, index: int) -> Path:
    return log_dir / f"{safe_name(version)}-{index}.log"


def safe_name(value: str) -> str:
    """A file-name-safe form of a service, environment or version name."""
    return _UNSAFE.sub("_", value) or "_"


def rotated(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def rotate_if_needed(path: Path, limits: LogLimits) -> bool:
    """Rotate `path` when it grew past the limit; True if it did."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size <= limits.max_bytes:
        return False
    rotate(path, limits.keep)
    return True


def rotate(path: Path, keep: int) -> None:
    """`.{keep-1}` → `.{keep}`, ..., current → `.1`, then truncate the current file."""
    rotated(path, keep).unlink(missing_ok=True)
    for number in range(keep - 1, 0, -1):
        older = rotated(path, number)
        if older.exists():
            older.replace(rotated(path, number + 1))
    if keep > 0:
        shutil.copyfile(path, rotated(path, 1))
    os.truncate(path, 0)


def last_lines(path: Path, count: int, end: int | None = None, block: int = 8192) -> list[str]:
    """The last `count` lines of `path` (up to byte `end`), reading backwards in blocks."""
    if count <= 0:
        return []
    with path.open("rb") as handle:
        position = handle.seek(0, os.SEEK_END) if end is None else end
        data = b""
        while position > 0 and data.count(b"\n") <= count:
            step = min(block, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    lines = data.decode(errors="replace").splitlines()
    return lines[-count:]
