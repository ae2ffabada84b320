"""Argo CD notifications (webhook service) → deployments.

Argo CD renders the body from a template in `argocd-notifications-cm`; `docs/metrics.md`
gives the template this adapter reads. Fields a template cannot fill render as an empty
string or Go's `<no value>`; both count as absent here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from code_engine.dora import payload as fields
from code_engine.dora.events import (
    ENVIRONMENT_ALIASES,
    DeploymentEvent,
    DeploymentStatus,
    normalize_environment,
)

_ABSENT = {"", "<no value>", "null", "<nil>"}
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
FAILED_PHASES = {"error", "failed"}


def _value(body: Mapping[str, Any], name: str) -> str:
    raw = body.get(name)
    if not isinstance(raw, str) or raw.strip() in _ABSENT:
        return ""
    return raw.strip()


def _status(phase: str, health: str) -> DeploymentStatus | None:
    """A failed sync, or a sync whose application then degraded, is a failed deployment."""
    if phase.lower() in FAILED_PHASES:
        return DeploymentStatus.FAILED
    if phase.lower() != "succeeded":
        return None
    if health.lower() == "degraded":
        return DeploymentStatus.FAILED
    if health.lower() == "healthy":
        return DeploymentStatus.SUCCEEDED
    return None


def parse_notification(
    payload: object,
    *,
    default_environment: str = "prod",
    aliases: Mapping[str, str] = ENVIRONMENT_ALIASES,
) -> DeploymentEvent | None:
    """The deployment a notification reports, or None while the sync is still running.

    External id `argocd:<environment>:<app>@<operation startedAt>`: the degraded
    notification of a sync replaces its earlier success (see `dedupe`).
    """
    body = fields.require_mapping(payload)
    app = fields.text(body, "app")
    status = _status(_value(body, "phase"), _value(body, "healthStatus"))
    if status is None:
        return None
    finished = fields.timestamp(body, "finishedAt")
    started = fields.timestamp(body, "startedAt") if _value(body, "startedAt") else finished
    environment = normalize_environment(_value(body, "environment") or default_environment, aliases)
    revision = _value(body, "revision").lower()
    automated = _value(body, "automated").lower() == "true"
    stamp = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    return DeploymentEvent(
        external_id=f"argocd:{environment}:{app}@{stamp}",
        service=_value(body, "service") or app,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=finished,
        commits=(revision,) if _SHA.fullmatch(revision) else (),
        trigger="automated" if automated else _value(body, "initiatedBy"),
        source="argocd",
        revision=revision or None,
    )
