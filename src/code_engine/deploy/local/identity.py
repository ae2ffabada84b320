"""Which user the instances of the local target run as.

A deployed process must not read CODE's database or signing keys. When CODE runs as root,
instances run as a dedicated unprivileged system user (`code-instance`, created on first
use) unless `CODE_INSTANCE_USER` names another; they are never root. When CODE runs as an
ordinary user it cannot switch users, so instances share that user (see SECURITY.md).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from code_engine.errors import ConfigError

DEFAULT_USER = "code-instance"
SELF = "self"  # CODE's own user: no isolation, for development machines only


@dataclass(frozen=True)
class InstanceUser:
    """An account instances are started as: uid, primary gid and a home for HOME."""

    name: str
    uid: int
    gid: int
    home: str

    def environment(self) -> dict[str, str]:
        """Variables that would otherwise still name CODE's user."""
        return {"HOME": self.home, "USER": self.name, "LOGNAME": self.name}


Lookup = Callable[[str], "pwd.struct_passwd"]
Create = Callable[[str], None]


def resolve_instance_user(
    setting: str,
    *,
    environment: str,
    euid: int | None = None,
    lookup: Lookup = pwd.getpwnam,
    create: Create | None = None,
) -> InstanceUser | None:
    """The user to switch to, or None to run instances as CODE's own user."""
    euid = os.geteuid() if euid is None else euid
    name = setting.strip()
    if name == SELF:
        if euid == 0 and environment == "prod":
            raise ConfigError("CODE_INSTANCE_USER=self would run instances as root")
        return None
    if not name:
        if euid != 0:
            return None  # an ordinary user cannot switch: instances share it
        name = DEFAULT_USER
    try:
        entry = lookup(name)
    except KeyError:
        if euid != 0 or name != DEFAULT_USER:
            raise ConfigError(f"CODE_INSTANCE_USER: no user {name!r} on this host") from None
        (create or create_system_user)(name)
        entry = lookup(name)
    if entry.pw_uid == 0:
        raise ConfigError(f"CODE_INSTANCE_USER: {name!r} is root; instances never run as root")
    if euid != 0 and entry.pw_uid != euid:
        raise ConfigError(
            f"CODE_INSTANCE_USER: CODE runs as uid {euid} and cannot start processes as {name!r}"
        )
    if entry.pw_uid == euid:
        return None
    return InstanceUser(name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def unreachable_parent(path: Path, uid: int, groups: set[int]) -> Path | None:
    """The first directory on the way to `path` that user `uid` cannot pass, if any."""
    for directory in [*reversed(path.parents), path]:
        info = directory.stat()
        if info.st_uid == uid:
            allowed = info.st_mode & 0o100
        elif info.st_gid in groups:
            allowed = info.st_mode & 0o010
        else:
            allowed = info.st_mode & 0o001
        if not allowed:
            return directory
    return None


def create_system_user(name: str) -> None:
    """`useradd --system`: no login shell, no home directory, its own group."""
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    argv = [useradd, "--system", "--user-group", "--no-create-home"]
    argv += ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode not in (0, 9):  # 9: created meanwhile by another process
        message = result.stderr.strip() or f"exit code {result.returncode}"
        raise ConfigError(f"cannot create the instance user {name!r}: {message}")
