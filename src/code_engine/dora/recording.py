"""The one writer of deployments: every door records a deployment through `record_deployment`.

The deployments route (`run: false`), the batch event route, the webhooks and CODE's own
rollouts (`deploy.service` when it starts one, the controller as it moves) all land here,
so a deployment is deduplicated by its external id, keeps the version `dedupe.latest`
keeps, stores exactly the commits it delivered (from git when a tool reported only the
revision), picks up the incidents that named it before it arrived, and refreshes the lead
times of every deployment that shares a commit with it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from code_engine.dora import fill
from code_engine.dora.claim import Outcome, claim, lock_service, names
from code_engine.dora.dedupe import latest
from code_engine.dora.deliveries import refresh_deliveries
from code_engine.dora.deployments import DeploymentRecord, commits_of
from code_engine.dora.events import DeploymentEvent, DeploymentStatus, final_status
from code_engine.dora.tables import IncidentReferenceRow
from code_engine.errors import ConflictError
from code_engine.store.tables import DeploymentRow, IncidentRow

_COLUMNS = (
    "service_id",
    "environment_id",
    "release_id",
    "version",
    "status",
    "strategy",
    "trigger",
    "source",
    "created_by",
    "message",
    "started_at",
    "finished_at",
)
_DORA_STATUSES = frozenset(status.value for status in DeploymentStatus)


def _columns(record: DeploymentRecord, repo: Path | None) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _COLUMNS}
    values["version"] = record.version[:128]
    values["trigger"] = record.trigger[:64]
    values["source"] = record.source[:64]
    values["created_by"] = record.created_by[:200]
    state = dict(record.state)
    if record.external_id:
        commits = tuple(record.commits)
        state[fill.RECEIVED] = {
            "commits": list(commits),
            "revision": record.revision,
            "fillable": repo is not None and fill.fillable(commits, record.revision),
        }
    values["state"] = state
    return values


def record_deployment(
    session: Session, record: DeploymentRecord, *, repo: Path | None = None
) -> tuple[DeploymentRow, Outcome]:
    """Insert a deployment, or update the one with the same external id when this version
    wins; `repo` is the service's local git repository (commits from a revision)."""
    lock_service(session, record.service_id)
    values = _columns(record, repo)
    if record.external_id:
        try:
            with session.begin_nested():
                row, created = claim(
                    session,
                    DeploymentRow,
                    {"external_id": record.external_id},
                    {**values, "created_at": record.created_at},
                )
                if not created:
                    if not _wins(session, row, record, values):
                        return row, "unchanged"
                    for name, value in values.items():
                        setattr(row, name, value)
                    session.flush()
        except IntegrityError as exc:
            raise _in_flight_conflict(session, record) from exc
    else:
        row = DeploymentRow(created_at=record.created_at, **values)
        session.add(row)
        created = True
    session.flush()
    fill.replace_commits(session, row.id, list(dict.fromkeys(record.commits)))
    if record.external_id:
        _attach_incidents(session, row)
    if repo is not None:
        fill.refill(session, repo, row)
    return row, "created" if created else "updated"


def _in_flight_conflict(session: Session, record: DeploymentRecord) -> ConflictError:
    """A recorded deployment that claims to be one CODE runs, in flight where one already is.

    CODE's own rollouts never carry an external id; the one-rollout index refuses the row,
    and the caller gets a 409 that says why instead of a database error.
    """
    service, environment = names(session, record.service_id, record.environment_id)
    return ConflictError(
        f"deployment {record.external_id} of {service} in {environment}: source "
        f"{record.source!r} with status {record.status!r} claims a rollout CODE runs, and "
        "one is already in flight there; record it with another source or a final status"
    )


def record_status(
    session: Session,
    row: DeploymentRow,
    *,
    status: str,
    started_at: datetime | None,
    finished_at: datetime | None,
) -> None:
    """A running deployment moved (the controller): its lead times follow its outcome."""
    lock_service(session, row.service_id)
    before = (row.status, row.finished_at)
    row.status = status
    row.started_at = started_at
    row.finished_at = finished_at
    if (row.status, row.finished_at) != before:
        refresh_deliveries(session, [row.id])


def _event(session: Session, values: dict[str, Any], external_id: str) -> DeploymentEvent | None:
    """A deployment as the event a tool would send; None while it has not finished."""
    status = final_status(values["status"])
    finished, started = values["finished_at"], values["started_at"] or values["finished_at"]
    if status is None or finished is None or started > finished:
        return None
    service, environment = names(session, values["service_id"], values["environment_id"])
    received = values["state"].get(fill.RECEIVED, {})
    return DeploymentEvent(
        external_id=external_id,
        service=service,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=finished,
        commits=tuple(received.get("commits", ())),
        trigger=values["trigger"],
        source=values["source"],
        revision=received.get("revision"),
    )


def _stored(session: Session, row: DeploymentRow) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _COLUMNS}
    state = row.state if isinstance(row.state, dict) else {}
    received = state.get(fill.RECEIVED)
    if not isinstance(received, dict):
        received = {"commits": commits_of(session, row.id), "revision": None}
    return {**values, "state": {**state, fill.RECEIVED: received}}


def _wins(
    session: Session, row: DeploymentRow, record: DeploymentRecord, values: dict[str, Any]
) -> bool:
    """Whether this version of a reported deployment replaces the stored one.

    Two finished versions: the rule of `dedupe.latest`. A finished deployment is never
    reopened by a report of it in progress; otherwise any difference is news.
    """
    stored = _stored(session, row)
    external_id = str(record.external_id)
    old, new = _event(session, stored, external_id), _event(session, values, external_id)
    if old is not None and new is not None:
        return latest(old, new) is new
    if old is not None:
        return False
    return {k: stored[k] for k in values} != values


def _attach_incidents(session: Session, row: DeploymentRow) -> None:
    """Incidents that named this deployment before it arrived now point at it."""
    named = select(IncidentReferenceRow.incident_id).where(
        IncidentReferenceRow.deployment_external_id == row.external_id
    )
    session.execute(
        update(IncidentRow)
        .where(IncidentRow.id.in_(named), IncidentRow.deployment_id.is_(None))
        .values(deployment_id=row.id)
        .execution_options(synchronize_session=False)
    )
