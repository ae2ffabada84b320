"""Whom instances run as: a dedicated user under root, never root, CODE's own otherwise."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from code_engine.deploy.local.identity import (
    DEFAULT_USER,
    InstanceUser,
    resolve_instance_user,
    unreachable_parent,
)
from code_engine.errors import ConfigError

USERS = {
    "root": (0, 0, "/root"),
    "svc": (990, 990, "/nonexistent"),
    "me": (1000, 1000, "/home/me"),
}


def _entry(name: str) -> pwd.struct_passwd:
    uid, gid, home = USERS[name]
    return pwd.struct_passwd((name, "x", uid, gid, "", home, "/usr/sbin/nologin"))


def test_root_gets_the_dedicated_user_created_on_first_use() -> None:
    created: list[str] = []

    def create(name: str) -> None:
        created.append(name)
        USERS[name] = (991, 991, "/nonexistent")

    try:
        user = resolve_instance_user("", environment="prod", euid=0, lookup=_entry, create=create)
    finally:
        USERS.pop(DEFAULT_USER, None)
    assert created == [DEFAULT_USER]
    assert user == InstanceUser(DEFAULT_USER, 991, 991, "/nonexistent")
    assert user.environment()["HOME"] == "/nonexistent"


def test_a_named_user_is_used_and_never_root() -> None:
    assert resolve_instance_user("svc", environment="prod", euid=0, lookup=_entry) == (
        InstanceUser("svc", 990, 990, "/nonexistent")
    )
    with pytest.raises(ConfigError, match="never run as root"):
        resolve_instance_user("root", environment="dev", euid=0, lookup=_entry)
    with pytest.raises(ConfigError, match="no user 'ghost'"):
        resolve_instance_user("ghost", environment="dev", euid=0, lookup=_entry)


def test_an_ordinary_user_cannot_switch() -> None:
    assert resolve_instance_user("", environment="prod", euid=1000, lookup=_entry) is None
    assert resolve_instance_user("me", environment="prod", euid=1000, lookup=_entry) is None
    with pytest.raises(ConfigError, match="cannot start processes as 'svc'"):
        resolve_instance_user("svc", environment="prod", euid=1000, lookup=_entry)


def test_self_is_refused_for_root_in_production_only() -> None:
    assert resolve_instance_user("self", environment="dev", euid=0, lookup=_entry) is None
    with pytest.raises(ConfigError, match="as root"):
        resolve_instance_user("self", environment="prod", euid=0, lookup=_entry)


def test_unreachable_parent(tmp_path: Path) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    me = os.geteuid()  # the owner: only the owner's bits count, whatever the others'
    (tmp_path / "a").chmod(0o677)
    try:
        assert unreachable_parent(inner, me, set()) == tmp_path / "a"
        (tmp_path / "a").chmod(0o100)
        assert unreachable_parent(inner, me, set()) is None
    finally:
        (tmp_path / "a").chmod(0o755)
