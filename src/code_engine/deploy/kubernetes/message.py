"""What a GitOps commit says: who deployed, what, and the trailers CODE reads back."""

from __future__ import annotations

import re
from dataclasses import dataclass

TRAILER_DEPLOYMENT = "Code-Deployment"
TRAILER_RELEASE = "Code-Release"
TRAILER_COMMIT = "Code-Commit"


@dataclass(frozen=True)
class Author:
    """The principal a commit is written as."""

    name: str
    email: str

    def __post_init__(self) -> None:
        if not self.name.strip() or "<" in self.name or ">" in self.name:
            raise ValueError(f"author name {self.name!r} cannot be a git identity")
        if not re.fullmatch(r"[^<>\s]+@?[^<>\s]*", self.email):
            raise ValueError(f"author email {self.email!r} cannot be a git identity")


@dataclass(frozen=True)
class DeployMessage:
    """A Conventional commit subject, an optional body and CODE's trailers."""

    subject: str
    deployment: str
    release: str
    commit: str
    body: str = ""

    def text(self) -> str:
        """The full commit message."""
        parts = [self.subject.strip()]
        if self.body.strip():
            parts.append(self.body.strip())
        parts.append(
            f"{TRAILER_DEPLOYMENT}: {self.deployment}\n"
            f"{TRAILER_RELEASE}: {self.release}\n"
            f"{TRAILER_COMMIT}: {self.commit}"
        )
        return "\n\n".join(parts) + "\n"

    @classmethod
    def deploy(
        cls, service: str, environment: str, deployment: str, release: str, commit: str
    ) -> DeployMessage:
        """The message of a deployment: `deploy(<env>): <service> <release>`."""
        return cls(f"deploy({environment}): {service} {release}", deployment, release, commit)

    @classmethod
    def rollback(
        cls, service: str, environment: str, deployment: str, release: str, commit: str
    ) -> DeployMessage:
        """The message of a rollback: `revert(<env>): <service> <release>`."""
        return cls(f"revert({environment}): {service} {release}", deployment, release, commit)


@dataclass(frozen=True)
class Published:
    """Where a deployment's commit went: `pushed` is False when nothing changed."""

    commit: str
    branch: str
    pushed: bool
    message: str


def trailers(message: str) -> dict[str, str]:
    """CODE's trailers of a commit message."""
    found: dict[str, str] = {}
    for line in message.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in (TRAILER_DEPLOYMENT, TRAILER_RELEASE, TRAILER_COMMIT):
            found[key] = value.strip()
    return found
