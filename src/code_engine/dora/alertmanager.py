"""Prometheus Alertmanager webhooks (`version: "4"`) → incidents.

Each alert of a notification becomes one incident version: `firing` opens it, `resolved`
closes it at `endsAt`. Alertmanager keeps an alert's `fingerprint` (a hash of its labels)
and `startsAt` across notifications, so `alertmanager:<fingerprint>@<startsAt>` names one
incident: re-sent notifications replace it, and the same alert firing again after it
resolved opens a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from code_engine.dora import payload as fields
from code_engine.dora.events import (
    ENVIRONMENT_ALIASES,
    IncidentEvent,
    PayloadError,
    normalize_environment,
    parse_timestamp,
)

SUPPORTED_VERSION = "4"
# Go's zero time: Alertmanager sends it as `endsAt` of alerts that have no end yet.
_ZERO_YEAR = 1


@dataclass(frozen=True)
class LabelNames:
    """Which alert labels carry the incident's fields; the first present label wins.

    `deployment` (looked up in labels, then annotations) attributes the incident to a
    deployment's external id explicitly.
    """

    service: tuple[str, ...] = ("service",)
    environment: tuple[str, ...] = ("env", "environment")
    severity: tuple[str, ...] = ("severity",)
    deployment: tuple[str, ...] = ("deployment_id",)


DEFAULT_LABELS = LabelNames()


def _first(sources: tuple[Mapping[str, Any], ...], names: tuple[str, ...]) -> str:
    for source in sources:
        for name in names:
            value = source.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def _labels(alert: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = alert.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError([f"{key}: expected a JSON object"])
    return value


def _ends_at(alert: Mapping[str, Any]) -> datetime | None:
    raw = alert.get("endsAt")
    if raw is None or raw == "":
        return None
    ends = parse_timestamp(raw, "endsAt")
    return None if ends.year == _ZERO_YEAR else ends


def _incident(
    alert: Mapping[str, Any],
    labels: LabelNames,
    default_environment: str,
    aliases: Mapping[str, str],
) -> IncidentEvent | None:
    label_map = _labels(alert, "labels")
    annotations = _labels(alert, "annotations")
    service = _first((label_map,), labels.service)
    if not service:
        return None
    status = fields.text(alert, "status").lower()
    if status not in ("firing", "resolved"):
        raise PayloadError([f"status: expected 'firing' or 'resolved', got {status!r}"])
    opened = fields.timestamp(alert, "startsAt")
    resolved = None
    if status == "resolved":
        resolved = _ends_at(alert)
        if resolved is None:
            raise PayloadError(["endsAt: a resolved alert needs its end time"])
        # Clock skew between Prometheus servers must not make a negative duration.
        resolved = max(resolved, opened)
    environment = _first((label_map,), labels.environment) or default_environment
    title = _first((annotations, label_map), ("summary", "alertname"))
    stamp = opened.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return IncidentEvent(
        external_id=f"alertmanager:{fields.text(alert, 'fingerprint')}@{stamp}",
        service=service,
        environment=normalize_environment(environment, aliases),
        opened_at=opened,
        resolved_at=resolved,
        severity=_first((label_map,), labels.severity),
        deployment_id=_first((label_map, annotations), labels.deployment) or None,
        source="alertmanager",
        title=title,
    )


def parse_webhook(
    payload: object,
    *,
    labels: LabelNames = DEFAULT_LABELS,
    default_environment: str = "prod",
    aliases: Mapping[str, str] = ENVIRONMENT_ALIASES,
) -> list[IncidentEvent]:
    """The incidents of an Alertmanager notification, one per alert.

    Alerts without a service label are not about a service CODE knows and are skipped;
    an alert without an environment label is in `default_environment`.
    """
    body = fields.require_mapping(payload)
    version = body.get("version")
    if version != SUPPORTED_VERSION:
        raise PayloadError(
            [f"version: unsupported Alertmanager webhook version {version!r} (expected '4')"]
        )
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError(["alerts: expected a list"])
    incidents: list[IncidentEvent] = []
    problems: list[str] = []
    for index, alert in enumerate(alerts):
        path = f"alerts.{index}"
        if not isinstance(alert, Mapping):
            problems.append(f"{path}: expected a JSON object")
            continue
        result = _parse_one(alert, path, labels, default_environment, aliases)
        if isinstance(result, PayloadError):
            problems.extend(result.problems)
        elif result is not None:
            incidents.append(result)
    if problems:
        raise PayloadError(problems)
    return incidents


def _parse_one(
    alert: Mapping[str, Any],
    path: str,
    labels: LabelNames,
    default_environment: str,
    aliases: Mapping[str, str],
) -> IncidentEvent | PayloadError | None:
    try:
        return _incident(alert, labels, default_environment, aliases)
    except PayloadError as exc:
        return exc.prefixed(path)
