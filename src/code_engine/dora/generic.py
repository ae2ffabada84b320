"""The generic JSON ingestion shape: `{"events": [{"type": ..., "id": ..., ...}]}`.

Any CI/CD or incident tool without a dedicated adapter posts this shape; the models below
are its single definition (validation, and the JSON Schema the API publishes).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from code_engine.dora.events import (
    CommitEvent,
    DeploymentEvent,
    DeploymentStatus,
    Event,
    IncidentEvent,
    PayloadError,
    normalize_environment,
)

MAX_EVENTS = 10_000

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _full_sha(value: str) -> str:
    value = value.strip().lower()
    if not _SHA.fullmatch(value):
        raise ValueError("must be a full commit sha (40 or 64 hexadecimal digits)")
    return value


Sha = Annotated[str, AfterValidator(_full_sha)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=10_000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeploymentIn(_Model):
    """A finished deployment; `commits` are the full shas it delivered (newest first or not)."""

    type: Literal["deployment"]
    id: Name
    service: Name
    environment: Name = "prod"
    status: Literal["succeeded", "failed", "rolled_back"]
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime
    commits: list[Sha] = Field(default_factory=list, max_length=10_000)
    revision: Sha | None = None
    trigger: Annotated[str, StringConstraints(max_length=200)] = ""
    source: Annotated[str, StringConstraints(max_length=200)] = "generic"


class IncidentIn(_Model):
    """An incident; open while `resolved_at` is absent or null."""

    type: Literal["incident"]
    id: Name
    service: Name
    environment: Name = "prod"
    opened_at: AwareDatetime
    resolved_at: AwareDatetime | None = None
    severity: Annotated[str, StringConstraints(max_length=100)] = ""
    deployment_id: Name | None = None
    title: Text = ""
    source: Annotated[str, StringConstraints(max_length=200)] = "generic"


class CommitIn(_Model):
    """A commit; `id` is its full sha."""

    type: Literal["commit"]
    id: Sha
    service: Name
    authored_at: AwareDatetime
    committed_at: AwareDatetime | None = None
    message: Text = ""
    first_commit_at: AwareDatetime | None = None


EventIn = Annotated[DeploymentIn | IncidentIn | CommitIn, Field(discriminator="type")]


class EventBatch(_Model):
    """The request body of the generic ingestion endpoint."""

    events: list[EventIn] = Field(max_length=MAX_EVENTS)


def _location(loc: tuple[int | str, ...]) -> str:
    # Drop the union tag pydantic inserts after the list index: events.0.deployment.id.
    parts = [
        str(part)
        for index, part in enumerate(loc)
        if not (index == 2 and loc[0] == "events" and part in ("deployment", "incident", "commit"))
    ]
    return ".".join(parts) or "body"


def _to_event(item: DeploymentIn | IncidentIn | CommitIn) -> Event:
    if isinstance(item, DeploymentIn):
        return DeploymentEvent(
            external_id=item.id,
            service=item.service,
            environment=normalize_environment(item.environment),
            status=DeploymentStatus(item.status),
            started_at=item.started_at or item.finished_at,
            finished_at=item.finished_at,
            commits=tuple(item.commits),
            trigger=item.trigger,
            source=item.source,
            revision=item.revision,
        )
    if isinstance(item, IncidentIn):
        return IncidentEvent(
            external_id=item.id,
            service=item.service,
            environment=normalize_environment(item.environment),
            opened_at=item.opened_at,
            resolved_at=item.resolved_at,
            severity=item.severity,
            deployment_id=item.deployment_id,
            source=item.source,
            title=item.title,
        )
    return CommitEvent(
        sha=item.id,
        service=item.service,
        authored_at=item.authored_at,
        committed_at=item.committed_at or item.authored_at,
        message=item.message,
        first_commit_at=item.first_commit_at,
    )


def _convert(index: int, item: DeploymentIn | IncidentIn | CommitIn) -> Event | PayloadError:
    """The event, or its cross-field problems located under `events.<index>`."""
    try:
        return _to_event(item)
    except PayloadError as exc:
        return exc.prefixed(f"events.{index}")


def _message(error: ErrorDetails) -> str:
    if not error["loc"] and error["type"] == "model_type":
        return "expected a JSON object with an 'events' list"
    return error["msg"].removeprefix("Value error, ")


def parse_events(payload: object) -> list[Event]:
    """Validate a decoded JSON body; every problem is reported as `field path: message`."""
    try:
        batch = EventBatch.model_validate(payload)
    except PydanticValidationError as exc:
        raise PayloadError(
            f"{_location(error['loc'])}: {_message(error)}" for error in exc.errors()
        ) from None
    converted = [_convert(index, item) for index, item in enumerate(batch.events)]
    problems = [
        problem
        for result in converted
        if isinstance(result, PayloadError)
        for problem in result.problems
    ]
    if problems:
        raise PayloadError(problems)
    return [result for result in converted if not isinstance(result, PayloadError)]
