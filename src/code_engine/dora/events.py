"""DORA events: commits, deployments and incidents, always in timezone-aware UTC.

Every adapter (generic JSON, GitHub, Alertmanager, Argo CD, git) ends by building these
frozen dataclasses, so this module is the edge where naive timestamps are refused and
offsets are converted to UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from code_engine.errors import PayloadError as PayloadError  # re-exported: the adapters raise it

UTC = timezone.utc


class DeploymentStatus(str, Enum):
    """Final states of a deployment; in-progress states are never ingested."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


def final_status(status: str) -> DeploymentStatus | None:
    """The DORA status of a CODE deployment status; None while it is not finished, or when
    it never ran.

    `awaiting_approval`, `pending`, `progressing` and `paused` are not counted yet; `rejected`
    (refused before approval) never is: nothing was deployed. An automatic rollback is
    `rolled_back` and so a failed change without any manual linking.
    """
    try:
        return DeploymentStatus(status)
    except ValueError:
        return None


# Names that tools commonly use for CODE's environments; anything else is kept as given.
ENVIRONMENT_ALIASES: Mapping[str, str] = {
    "production": "prod",
    "prd": "prod",
    "live": "prod",
    "stage": "staging",
    "stg": "staging",
    "development": "dev",
    "develop": "dev",
}

_AWARE: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)
_EPOCH_NUMBER = re.compile(r"[+-]?\d+(?:\.\d*)?")


def normalize_environment(name: str, aliases: Mapping[str, str] = ENVIRONMENT_ALIASES) -> str:
    """`Production` → `prod`, `stage` → `staging`; unknown names are only lower-cased."""
    key = name.strip().lower()
    return aliases.get(key, key)


def to_utc(value: datetime, field: str = "timestamp") -> datetime:
    """Convert an aware datetime to UTC; a naive one is refused, its zone being unknown."""
    if value.tzinfo is timezone.utc:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise PayloadError(
            [f"{field}: timestamp {value.isoformat()} has no UTC offset (add 'Z' or '+02:00')"]
        )
    return value.astimezone(timezone.utc)


def parse_timestamp(value: object, field: str) -> datetime:
    """Parse an RFC 3339 timestamp (`Z` or `±hh:mm`, any fraction digits) into UTC.

    The parsing is pydantic's (`AwareDatetime`, strict); the checks around it keep the
    messages in `field: problem` form and refuse what pydantic would also read as a date
    but RFC 3339 does not (a number of seconds since the epoch).
    """
    if isinstance(value, datetime):
        return to_utc(value, field)
    if not isinstance(value, str):
        raise PayloadError([f"{field}: expected an RFC 3339 timestamp, got {value!r}"])
    if _EPOCH_NUMBER.fullmatch(value.strip()):
        raise PayloadError([f"{field}: {value!r} is not an RFC 3339 timestamp"])
    try:
        parsed = _AWARE.validate_strings(value.strip(), strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "timezone_aware":
            raise PayloadError(
                [f"{field}: timestamp {value!r} has no UTC offset (add 'Z')"]
            ) from None
        reason = (error.get("ctx") or {}).get("error")
        detail = f" ({reason})" if reason else ""
        raise PayloadError([f"{field}: {value!r} is not an RFC 3339 timestamp{detail}"]) from None
    return parsed.astimezone(timezone.utc)


def _set_utc(event: object, *fields: str) -> None:
    for name in fields:
        value = getattr(event, name)
        if value is not None:
            object.__setattr__(event, name, to_utc(value, name))


@dataclass(frozen=True, slots=True)
class CommitEvent:
    """A commit of a service's repository; `first_commit_at` is set on merge commits."""

    sha: str
    service: str
    authored_at: datetime
    committed_at: datetime
    message: str = ""
    first_commit_at: datetime | None = None

    def __post_init__(self) -> None:
        _set_utc(self, "authored_at", "committed_at", "first_commit_at")

    @property
    def change_started_at(self) -> datetime:
        """When work on this change began: the earliest of authored and first-commit time."""
        if self.first_commit_at is None:
            return self.authored_at
        return min(self.first_commit_at, self.authored_at)


@dataclass(frozen=True, slots=True)
class DeploymentEvent:
    """A finished deployment of a service to an environment and the commits it delivered."""

    external_id: str
    service: str
    environment: str
    status: DeploymentStatus
    started_at: datetime
    finished_at: datetime
    commits: tuple[str, ...] = ()
    trigger: str = ""
    source: str = ""
    revision: str | None = None

    def __post_init__(self) -> None:
        # Checked inline: the benchmark builds a million of these.
        if self.started_at.tzinfo is not UTC or self.finished_at.tzinfo is not UTC:
            _set_utc(self, "started_at", "finished_at")
        if type(self.status) is not DeploymentStatus:
            object.__setattr__(self, "status", DeploymentStatus(self.status))
        if type(self.commits) is not tuple:
            object.__setattr__(self, "commits", tuple(self.commits))
        if self.finished_at < self.started_at:
            raise PayloadError(["finished_at: is before started_at"])


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """An incident of a service in an environment; open while `resolved_at` is None."""

    external_id: str
    service: str
    environment: str
    opened_at: datetime
    resolved_at: datetime | None = None
    severity: str = ""
    deployment_id: str | None = None
    source: str = ""
    title: str = ""

    def __post_init__(self) -> None:
        _set_utc(self, "opened_at", "resolved_at")
        if self.resolved_at is not None and self.resolved_at < self.opened_at:
            raise PayloadError(["resolved_at: is before opened_at"])


Event = CommitEvent | DeploymentEvent | IncidentEvent
