"""CODE's data directory is private: 0700, its database files 0600.

The keys directory (auth/keys.py) is 0700 with 0600 files. When local instances run as
their own user, the directory gets that user's group with traversal only (0710), and
`releases/` (the snapshots instances run from) is readable by that group: an instance can
reach its code by path but can neither list the data directory nor open CODE's files.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIR = 0o700
TRAVERSE_DIR = 0o710  # group may pass through, not list
SHARED_DIR = 0o750
PRIVATE_FILE = 0o600
RELEASES = "releases"
# what the worker and server create inside it; made private before anything else can
PRIVATE_CHILDREN = ("keys", "logs", "run", "repos")


def secure_data_dir(data_dir: Path, instance_group: int | None = None) -> None:
    """Create `data_dir` if needed and take every right of others away from it.

    Without `instance_group` a traversal right granted earlier (by a worker whose instances
    run as their own user) is kept, so a server and a worker sharing the directory agree.
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if not _owned(data_dir):
        return  # someone else's directory (a shared mount): leave it to its owner
    releases = data_dir / RELEASES
    if instance_group is None:
        # only the worker's exact 0710 is kept: anything more open is closed
        keep = 0o010 if data_dir.stat().st_mode & 0o077 == 0o010 else 0
        data_dir.chmod(PRIVATE_DIR | keep)
        if not keep and releases.is_dir():
            releases.chmod(PRIVATE_DIR)
        return
    for name in PRIVATE_CHILDREN:
        (data_dir / name).mkdir(exist_ok=True, mode=PRIVATE_DIR)
    for child in data_dir.iterdir():
        if child.name != RELEASES and not child.is_symlink() and _owned(child):
            child.chmod(PRIVATE_DIR if child.is_dir() else PRIVATE_FILE)
    os.chown(data_dir, -1, instance_group)
    data_dir.chmod(TRAVERSE_DIR)
    releases.mkdir(exist_ok=True, mode=SHARED_DIR)
    os.chown(releases, -1, instance_group)
    releases.chmod(SHARED_DIR)


def secure_database_file(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (its WAL files take the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if _owned(file):
                file.chmod(PRIVATE_FILE)


def _owned(path: Path) -> bool:
    return path.stat().st_uid == os.geteuid()
