"""`/api/v1/webhooks/*`: GitHub, Prometheus Alertmanager and Argo CD, as they send them.

GitHub cannot send a bearer token, so its route is open and every delivery must carry a
valid `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the shared secret); with no
secret configured the route refuses everything. Alertmanager and Argo CD send an
`Authorization: Bearer` header (see docs/metrics.md for their configuration).

Events about services or environments CODE does not know are skipped and listed under
`ignored`, so that a tool watching more than CODE's services is not retried forever.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from code_engine.api.access import event_authorizer
from code_engine.api.deps import Developer, Now, RuntimeDep, SessionDep, authorize
from code_engine.api.errors import PermissionDeniedError
from code_engine.api.schemas import ERROR_RESPONSES
from code_engine.audit import trail as audit
from code_engine.auth.roles import Role
from code_engine.auth.tokens import AuthenticationError, Principal
from code_engine.deploy.kubernetes.tracked import tracked_deployment
from code_engine.dora import alertmanager, argocd, github
from code_engine.dora.events import Event, PayloadError
from code_engine.dora.ingest import IngestResult, ingest
from code_engine.settings import Settings

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)


class WebhookOut(BaseModel):
    received: int
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    ignored: list[str]


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: the signature covers these bytes.

    Read only once the delivery could be genuine: a secret is configured and the request
    carries a signature (its size is bounded by the body limit middleware).
    """
    settings: Settings = request.app.state.runtime.settings
    if not settings.github_webhook_secret.get_secret_value():
        raise PermissionDeniedError(
            "GitHub webhooks are disabled: set CODE_GITHUB_WEBHOOK_SECRET to the webhook's secret"
        )
    if not request.headers.get(github.SIGNATURE_HEADER, "").startswith("sha256="):
        raise AuthenticationError(f"missing or wrong {github.SIGNATURE_HEADER} signature")
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _store(
    session: Session,
    events: list[Event],
    *,
    by: str,
    now: Any,
    source: str,
    principal: Principal | None,
) -> WebhookOut:
    def allowed(environment: str) -> None:
        if principal is not None:
            authorize(principal, Role.deployer, environment)

    result = ingest(
        session,
        events,
        by=by,
        authorize_deploy=allowed,
        skip_unknown=True,
        authorize_event=None
        if principal is None
        else event_authorizer(session, principal, authorize),
    )
    audit.record(
        session,
        at=now,
        principal=by,
        action=f"webhook.{source}",
        detail={"received": len(events), **result.as_dict(), "ignored": len(result.ignored)},
    )
    return _out(len(events), result)


def _out(received: int, result: IngestResult | None = None, reason: str = "") -> WebhookOut:
    result = result or IngestResult()
    ignored = [*result.ignored, *([reason] if reason else [])]
    return WebhookOut(received=received, ignored=ignored, **result.as_dict())


def _github_payload(body: bytes, content_type: str) -> object:
    """GitHub sends JSON, or a form with a `payload` field when so configured."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode("utf-8")).get("payload", [""])[0].encode("utf-8")
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError(["body: not a JSON document"]) from None


@router.post(
    "/github",
    response_model=WebhookOut,
    summary="GitHub deployment_status webhook (signed with X-Hub-Signature-256)",
)
def github_webhook(
    request: Request, body: RawBody, runtime: RuntimeDep, session: SessionDep, now: Now
) -> WebhookOut:
    secret = runtime.settings.github_webhook_secret.get_secret_value()
    if not secret:
        raise PermissionDeniedError(
            "GitHub webhooks are disabled: set CODE_GITHUB_WEBHOOK_SECRET to the webhook's secret"
        )
    signature = request.headers.get(github.SIGNATURE_HEADER)
    if not github.verify_signature(secret.encode("utf-8"), body, signature):
        raise AuthenticationError(f"missing or wrong {github.SIGNATURE_HEADER} signature")
    kind = request.headers.get(github.EVENT_HEADER, "")
    if kind != github.EVENT_NAME:
        return _out(0, reason=f"{github.EVENT_HEADER} {kind or '(none)'}: only deployment_status")
    payload = _github_payload(body, request.headers.get("content-type", ""))
    event = github.parse_deployment_status(payload)
    if event is None:
        return _out(0, reason="deployment_status.state: not a final state")
    return _store(session, [event], by="github", now=now, source="github", principal=None)


def label_names(settings: Settings) -> alertmanager.LabelNames:
    """The alert labels CODE reads, from settings (comma-separated, first present wins)."""

    def names(value: str) -> tuple[str, ...]:
        return tuple(name.strip() for name in value.split(",") if name.strip())

    return alertmanager.LabelNames(
        service=names(settings.alertmanager_service_labels),
        environment=names(settings.alertmanager_environment_labels),
        severity=names(settings.alertmanager_severity_labels),
        deployment=names(settings.alertmanager_deployment_labels),
    )


@router.post(
    "/alertmanager",
    response_model=WebhookOut,
    summary="Prometheus Alertmanager webhook (version 4): firing opens, resolved closes",
)
def alertmanager_webhook(
    payload: Annotated[dict[str, Any], Body()],
    runtime: RuntimeDep,
    session: SessionDep,
    principal: Developer,
    now: Now,
) -> WebhookOut:
    events: list[Event] = list(
        alertmanager.parse_webhook(payload, labels=label_names(runtime.settings))
    )
    return _store(
        session, events, by=principal.name, now=now, source="alertmanager", principal=principal
    )


@router.post(
    "/argocd",
    response_model=WebhookOut,
    summary="Argo CD notification (the template in docs/metrics.md)",
)
def argocd_webhook(
    payload: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    principal: Developer,
    now: Now,
) -> WebhookOut:
    event = argocd.parse_notification(payload)
    if event is None:
        return _out(0, reason="phase: the sync has not finished")
    tracked = tracked_deployment(session, event.revision)
    if tracked is not None:  # CODE records it itself, from what it reads of Argo CD
        return _out(1, reason=f"revision: deployment {tracked} of CODE, recorded by CODE")
    return _store(
        session, [event], by=principal.name, now=now, source="argocd", principal=principal
    )
