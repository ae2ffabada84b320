"""Which repositories a service may be built from, and the one way to change it.

A service's repository decides what runs on CODE's hosts, so it is set when an admin
registers the service and changed only by an admin, with an audit record. The operator can
narrow the choice with `CODE_ALLOWED_REPO_URLS`: entries such as `https://git.example.com/`
(a scheme and host, optionally a path below which repositories must be) or `/srv/git`
(a local directory). Empty, any repository an admin registers is allowed, and nothing else.
Whatever the setting, git's command-running transports (`ext::`) and option-looking values
are refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from code_engine.audit import trail as audit
from code_engine.catalog.store import require_service
from code_engine.errors import UserError
from code_engine.store.tables import ServiceRow

SCHEMES = frozenset({"https", "http", "ssh", "git", "file"})
_SCP = re.compile(r"^(?P<user>[A-Za-z0-9._-]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*|/.*)$")
MAX_LENGTH = 2048


class RepositoryNotAllowedError(UserError):
    """A repository the operator does not allow, or one git would treat as a command."""


@dataclass(frozen=True)
class RepoAddress:
    """A repository as scheme, host and path, for comparing against the allowed list."""

    scheme: str
    host: str
    path: str


def parse_allowed(text: str) -> tuple[str, ...]:
    """The comma-separated `CODE_ALLOWED_REPO_URLS` as entries, each one checked."""
    entries = tuple(entry.strip() for entry in text.split(",") if entry.strip())
    for entry in entries:
        address(entry)
    return entries


def address(repo: str) -> RepoAddress:
    """Parse a repository URL, `user@host:path` or local path; refuse anything else."""
    if not repo or len(repo) > MAX_LENGTH:
        raise RepositoryNotAllowedError("a repository is 1 to 2048 characters")
    if repo.startswith("-") or any(ord(c) < 32 for c in repo):
        raise RepositoryNotAllowedError(f"{repo!r} is not a repository URL or path")
    if "::" in repo.split("/", 1)[0]:
        raise RepositoryNotAllowedError(f"{repo!r}: git transports like ext:: are not allowed")
    if "://" in repo:
        parts = urlsplit(repo)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            allowed = ", ".join(sorted(SCHEMES))
            raise RepositoryNotAllowedError(f"{repo!r}: scheme {scheme!r} is not one of {allowed}")
        if scheme != "file" and not parts.hostname:
            raise RepositoryNotAllowedError(f"{repo!r}: no host")
        return RepoAddress(scheme, (parts.hostname or "").lower(), _normal(parts.path))
    scp = _SCP.match(repo)
    if scp and not repo.startswith(("/", ".", "~")):
        return RepoAddress("ssh", scp["host"].lower(), _normal("/" + scp["path"].lstrip("/")))
    return RepoAddress("file", "", _normal(repo))


def _normal(path: str) -> str:
    parts: list[str] = []
    for part in PurePosixPath(path or "/").parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", "/"):
            parts.append(part)
    prefix = "/" if path.startswith("/") else ""
    return prefix + "/".join(parts)


def check_repo(repo: str, allowed: Sequence[str]) -> None:
    """Refuse `repo` unless it is well-formed and, when `allowed` is set, inside an entry."""
    candidate = address(repo)
    if not allowed:
        return
    for entry in allowed:
        rule = address(entry)
        same_place = (rule.scheme, rule.host) == (candidate.scheme, candidate.host)
        if same_place and _within(candidate.path, rule.path):
            return
    raise RepositoryNotAllowedError(
        f"repository {repo!r} is not allowed here (CODE_ALLOWED_REPO_URLS)"
    )


def _within(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def change_repo(
    session: Session,
    name: str,
    repo: str,
    allowed: Sequence[str],
    *,
    actor: str,
    now: datetime,
) -> ServiceRow:
    """Point service `name` at `repo` (the caller has checked that `actor` is an admin)."""
    check_repo(repo, allowed)
    service = require_service(session, name)
    previous = service.repo
    service.repo = repo
    audit.record(
        session,
        at=now,
        principal=actor,
        action="service.repo.change",
        resource=f"service/{service.name}",
        detail={"from": previous, "to": repo},
    )
    return service
