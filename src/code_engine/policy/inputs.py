"""The input document every policy gets: one stable shape for every action (docs/policy.md,
`input.schema.json`). Pure functions of facts the caller gathered."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from code_engine.auth.roles import Binding

SCHEMA_VERSION = 1
ACTIONS = (
    "deploy",
    "promote",
    "rollback",
    "abort",
    "approve",
    "create_release",
    "change_roles",
)
UNKNOWN_QUALIFICATION: dict[str, Any] = {"status": "unknown"}


@dataclass(frozen=True)
class Facts:
    """Everything a decision is about; what does not apply stays None or empty."""

    action: str
    principal: dict[str, Any]
    now: datetime
    timezone: str = "UTC"
    service: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    release: dict[str, Any] | None = None
    history: Sequence[Mapping[str, Any]] = ()
    assessment: dict[str, Any] | None = None
    approvals: Sequence[Mapping[str, Any]] = ()
    deployment: dict[str, Any] | None = None
    subject: dict[str, Any] | None = None


def principal_of(name: str, bindings: Iterable[Binding]) -> dict[str, Any]:
    """`id`, its global `roles`, and `scopes`: the roles bound per environment."""
    roles = sorted({b.role.name for b in bindings if b.environment is None})
    scopes: dict[str, list[str]] = {}
    for binding in sorted(bindings):
        if binding.environment is not None:
            scopes.setdefault(binding.environment, []).append(binding.role.name)
    return {"id": name, "roles": roles, "scopes": scopes}


def time_of(now: datetime, zone: str) -> dict[str, Any]:
    """The time in UTC and in the environment's zone, with the parts change windows use."""
    utc = now.astimezone(timezone.utc)
    local = utc.astimezone(ZoneInfo(zone))
    return {
        "utc": utc.isoformat().replace("+00:00", "Z"),
        "unix_ns": int(utc.timestamp()) * 1_000_000_000 + utc.microsecond * 1000,
        "timezone": zone,
        "local": local.isoformat(),
        "date": local.date().isoformat(),
        "weekday": local.strftime("%A"),
        "hour": local.hour,
        "minute": local.minute,
    }


def build_input(facts: Facts) -> dict[str, Any]:
    """The input document of `facts`, in the documented shape."""
    release = None
    if facts.release is not None:
        release = {"qualification": UNKNOWN_QUALIFICATION, **facts.release}
        if release["qualification"] is None:
            release["qualification"] = UNKNOWN_QUALIFICATION
    return {
        "schema_version": SCHEMA_VERSION,
        "action": facts.action,
        "principal": facts.principal,
        "service": facts.service,
        "environment": facts.environment,
        "release": release,
        "history": [dict(entry) for entry in facts.history],
        "assessment": facts.assessment,
        "approvals": [dict(entry) for entry in facts.approvals],
        "deployment": facts.deployment,
        "subject": facts.subject,
        "time": time_of(facts.now, facts.timezone),
    }


def input_hash(document: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the document (sorted keys, no spaces)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
