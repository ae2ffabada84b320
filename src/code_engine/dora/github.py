"""GitHub `deployment_status` webhooks: signature check and mapping to a deployment.

GitHub signs each delivery with the webhook's secret: `X-Hub-Signature-256` is
`sha256=` followed by the hex HMAC-SHA256 of the raw request body. Verify it on the raw
bytes before decoding the JSON.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from code_engine.dora import payload as fields
from code_engine.dora.events import (
    ENVIRONMENT_ALIASES,
    DeploymentEvent,
    DeploymentStatus,
    normalize_environment,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
EVENT_NAME = "deployment_status"
_PREFIX = "sha256="

# Final states only; `pending`, `queued`, `in_progress` and `inactive` (superseded by a
# newer deployment) say nothing about the outcome and are skipped.
STATES: Mapping[str, DeploymentStatus] = {
    "success": DeploymentStatus.SUCCEEDED,
    "failure": DeploymentStatus.FAILED,
    "error": DeploymentStatus.FAILED,
}


def signature(secret: bytes, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` is GitHub's signature of `body` (constant-time comparison).

    An empty secret never verifies: an unconfigured secret must not accept anything.
    """
    if not secret or not header or not header.startswith(_PREFIX):
        return False
    expected = signature(secret, body).encode("ascii")
    return hmac.compare_digest(expected, header.strip().lower().encode("utf-8"))


def _service(payload: Mapping[str, Any]) -> str:
    # A monorepo names the service in the deployment's custom payload; else the repository.
    custom = fields.lookup(payload, "deployment.payload.service")
    if isinstance(custom, str) and custom.strip():
        return custom.strip()
    return fields.text(payload, "repository.name")


def parse_deployment_status(
    payload: object, *, aliases: Mapping[str, str] = ENVIRONMENT_ALIASES
) -> DeploymentEvent | None:
    """The finished deployment a `deployment_status` event reports, or None while running.

    External id `github:<deployment id>`: every status of one deployment replaces the
    previous one (see `dedupe`). The deployed `sha` is the deployment's only commit; the
    commits between it and the previous production deployment come from git
    (`gitlog.commits_between`).
    """
    body = fields.require_mapping(payload)
    state = fields.text(body, "deployment_status.state").lower()
    status = STATES.get(state)
    if status is None:
        return None
    fields.require_mapping(body, "deployment")
    sha = fields.text(body, "deployment.sha").lower()
    environment = fields.text(body, "deployment_status.environment", required=False)
    if not environment:
        environment = fields.text(body, "deployment.environment")
    return DeploymentEvent(
        external_id=f"github:{fields.text(body, 'deployment.id')}",
        service=_service(body),
        environment=normalize_environment(environment, aliases),
        status=status,
        started_at=fields.timestamp(body, "deployment.created_at"),
        finished_at=fields.timestamp(body, "deployment_status.created_at"),
        commits=(sha,),
        trigger=fields.text(body, "deployment.creator.login", required=False),
        source="github",
        revision=sha,
    )
