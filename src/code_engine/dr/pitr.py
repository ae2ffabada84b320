"""Point-in-time recovery of a PostgreSQL cluster CODE runs beside, driven through pgBackRest.

CODE writes pgBackRest's configuration, points `archive_command` at `pgbackrest archive-push`,
creates the stanza, takes backups and restores to a time into a new data directory. It never
archives WAL itself. Every pgBackRest command runs as the cluster's owner (`postgres`).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from code_engine.dr.errors import DrError, SnapshotNotFoundError, TargetExistsError

OWNER = "postgres"


@dataclass(frozen=True)
class PitrSetup:
    """One cluster's pgBackRest stanza: where the cluster is and where its repository is."""

    stanza: str
    pg_data: Path
    pg_port: int
    repository: Path
    socket_dir: Path = Path("/var/run/postgresql")
    owner: str = OWNER

    @property
    def config_path(self) -> Path:
        return self.repository / "pgbackrest.conf"

    def render(self) -> str:
        return "\n".join(
            [
                "[global]",
                f"repo1-path={self.repository / 'repo'}",
                "repo1-retention-full=2",
                "start-fast=y",
                "log-level-console=warn",
                "log-level-file=info",
                f"log-path={self.repository / 'log'}",
                f"lock-path={self.repository / 'lock'}",
                "",
                f"[{self.stanza}]",
                f"pg1-path={self.pg_data}",
                f"pg1-port={self.pg_port}",
                f"pg1-socket-path={self.socket_dir}",
                "",
            ]
        )

    def archive_command(self) -> str:
        return f"pgbackrest --config={self.config_path} --stanza={self.stanza} archive-push %p"


def _binary() -> str:
    found = shutil.which("pgbackrest")
    if found is None:
        raise DrError("pgbackrest not found: install the Debian package `pgbackrest`")
    return found


def _as_owner(setup: PitrSetup, argv: list[str]) -> list[str]:
    if os.geteuid() == 0 and setup.owner != "root":
        return ["runuser", "-u", setup.owner, "--", *argv]
    return argv


def _run(setup: PitrSetup, *args: str) -> str:
    argv = _as_owner(
        setup, [_binary(), f"--config={setup.config_path}", f"--stanza={setup.stanza}", *args]
    )
    done = subprocess.run(argv, capture_output=True, text=True)  # noqa: S603 - fixed argv
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip()[-800:]
        raise DrError(f"pgbackrest {args[0]} failed (exit {done.returncode}): {message}")
    return done.stdout


def write_config(setup: PitrSetup) -> Path:
    """Create the repository directories and the configuration, owned by the cluster's owner."""
    owner = pwd.getpwnam(setup.owner)
    for path in (setup.repository, setup.repository / "repo", setup.repository / "log",
                 setup.repository / "lock"):  # fmt: skip
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    setup.config_path.write_text(setup.render(), encoding="utf-8")
    setup.config_path.chmod(0o644)
    return setup.config_path


def server_settings(setup: PitrSetup) -> dict[str, str]:
    """What the cluster needs (ALTER SYSTEM, then a restart for archive_mode)."""
    return {
        "archive_mode": "on",
        "archive_command": setup.archive_command(),
        "wal_level": "replica",
    }


def create_stanza(setup: PitrSetup) -> None:
    _run(setup, "stanza-create")
    _run(setup, "check")


def backup(setup: PitrSetup, kind: str = "full") -> dict[str, Any]:
    if kind not in ("full", "diff", "incr"):
        raise DrError(f"backup type {kind!r}: use full, diff or incr")
    _run(setup, "backup", f"--type={kind}")
    return info(setup)


def info(setup: PitrSetup) -> dict[str, Any]:
    data = json.loads(_run(setup, "info", "--output=json"))
    return data[0] if data else {}


def restorable_since(setup: PitrSetup) -> datetime | None:
    """Start of the oldest backup: the earliest time a restore can reach."""
    backups = info(setup).get("backup", [])
    if not backups:
        return None
    return datetime.fromtimestamp(backups[0]["timestamp"]["stop"]).astimezone()


def restore_to_time(setup: PitrSetup, moment: datetime, target: Path) -> Path:
    """Restore the cluster as it was at `moment` into the new data directory `target`."""
    if moment.tzinfo is None:
        raise DrError("the recovery time needs an offset, e.g. 2024-01-15T10:00:00Z")
    if target.exists():
        raise TargetExistsError(f"{target}: exists; give another --target")
    earliest = restorable_since(setup)
    if earliest is None or moment < earliest:
        raise SnapshotNotFoundError(
            f"no pgBackRest backup of {setup.stanza} ends before {moment.isoformat()}"
            + (f"; the earliest point is {earliest.isoformat()}" if earliest else "")
        )
    owner = pwd.getpwnam(setup.owner)
    target.mkdir(mode=0o700, parents=True)
    if os.geteuid() == 0:
        os.chown(target, owner.pw_uid, owner.pw_gid)
    try:
        _run(
            setup,
            "restore",
            "--type=time",
            f"--target={moment.isoformat(sep=' ')}",
            "--target-action=promote",
            f"--pg1-path={target}",
        )
    except DrError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target
