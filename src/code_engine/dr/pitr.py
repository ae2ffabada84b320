"""Point-in-time recovery of a PostgreSQL cluster CODE runs beside, driven through pgBackRest.

CODE writes pgBackRest's configuration, points `archive_command` at `pgbackrest archive-push`,
creates the stanza, takes backups and restores to a time into a new data directory. It never
archives WAL itself. Every pgBackRest command runs as the cluster's owner (`postgres`).

The repository is a directory, or S3 (`repo1-type=s3`, over TLS: pgBackRest speaks nothing
else). S3 credentials are read from the environment when the configuration is written and
kept in a separate file only the cluster's owner reads, since `archive_command` runs in the
server's environment, not CODE's.
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
from urllib.parse import urlsplit

from code_engine.dr.errors import DrError, SnapshotNotFoundError, TargetExistsError

OWNER = "postgres"


@dataclass(frozen=True)
class S3Repository:
    """Where an S3 repository is; credentials are not kept here."""

    bucket: str
    path: str  # the repository's path inside the bucket, starting with /
    host: str
    port: int = 443
    region: str = "us-east-1"
    ca_file: Path | None = None

    @classmethod
    def from_url(cls, url: str, endpoint: str, region: str, ca_file: str) -> S3Repository:
        """`s3://bucket/prefix` and an endpoint such as `https://s3.example.com:9000`."""
        parts, address = urlsplit(url), urlsplit(endpoint or "https://s3.amazonaws.com")
        if address.scheme != "https" or not address.hostname:
            raise DrError(f"AWS_ENDPOINT_URL={endpoint}: pgBackRest reaches S3 only over https")
        return cls(
            bucket=parts.netloc,
            path="/" + parts.path.strip("/"),
            host=address.hostname,
            port=address.port or 443,
            region=region or "us-east-1",
            ca_file=Path(ca_file) if ca_file else None,
        )

    def render(self) -> list[str]:
        lines = [
            "repo1-type=s3",
            f"repo1-path={self.path}",
            f"repo1-s3-bucket={self.bucket}",
            f"repo1-s3-endpoint={self.host}",
            f"repo1-storage-port={self.port}",
            f"repo1-s3-region={self.region}",
            "repo1-s3-uri-style=path",
        ]
        if self.ca_file is not None:
            lines.append(f"repo1-storage-ca-file={self.ca_file}")
        return lines


@dataclass(frozen=True)
class PitrSetup:
    """One cluster's pgBackRest stanza: where the cluster is and where its repository is."""

    stanza: str
    pg_data: Path
    pg_port: int
    repository: Path
    socket_dir: Path = Path("/var/run/postgresql")
    owner: str = OWNER
    s3: S3Repository | None = None  # None: the repository is `repository/repo`

    @property
    def config_path(self) -> Path:
        return self.repository / "pgbackrest.conf"

    @property
    def include_path(self) -> Path:
        """Holds `credentials.conf` of an S3 repository (mode 0600)."""
        return self.repository / "conf.d"

    def render(self) -> str:
        repo = self.s3.render() if self.s3 else [f"repo1-path={self.repository / 'repo'}"]
        return "\n".join(
            [
                "[global]",
                *repo,
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

    def options(self) -> list[str]:
        return [
            f"--config={self.config_path}",
            f"--config-include-path={self.include_path}",
            f"--stanza={self.stanza}",
        ]

    def archive_command(self) -> str:
        return f"pgbackrest {' '.join(self.options())} archive-push %p"


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
    argv = _as_owner(setup, [_binary(), *setup.options(), *args])
    done = subprocess.run(argv, capture_output=True, text=True)  # noqa: S603 - fixed argv
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip()[-800:]
        raise DrError(f"pgbackrest {args[0]} failed (exit {done.returncode}): {message}")
    return done.stdout


def write_config(setup: PitrSetup) -> Path:
    """Create the repository directories and the configuration, owned by the cluster's owner."""
    owner = pwd.getpwnam(setup.owner)
    for path in (setup.repository, setup.repository / "repo", setup.repository / "log",
                 setup.repository / "lock", setup.include_path):  # fmt: skip
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    setup.config_path.write_text(setup.render(), encoding="utf-8")
    setup.config_path.chmod(0o644)
    if setup.s3 is not None:
        _write_credentials(setup, owner)
    return setup.config_path


def _write_credentials(setup: PitrSetup, owner: pwd.struct_passwd) -> None:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise DrError(
            f"pitr of {setup.stanza} on S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    path = setup.include_path / "credentials.conf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"[global]\nrepo1-s3-key={key}\nrepo1-s3-key-secret={secret}\n")
    path.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(path, owner.pw_uid, owner.pw_gid)


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
