"""Queries about what runs where: the current and the active deployment of an environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.store.tables import DeploymentRow, EnvironmentRow, ReleaseRow, ServiceRow

RUN_SOURCE = "code"  # deployments CODE runs or ran (others are only recorded)
AWAITING_APPROVAL = "awaiting_approval"
# what the controller drives; a deployment awaiting approval is not run until approved
ACTIVE_STATUSES = ("pending", "progressing", "paused")
# what holds an environment: a new deployment there waits for it, or for its abort
OPEN_STATUSES = (AWAITING_APPROVAL, *ACTIVE_STATUSES)


def is_run(row: DeploymentRow | None) -> TypeGuard[DeploymentRow]:
    """True for a deployment the controller plans and drives: it carries its launches
    (a record with source `code` but no plan, e.g. imported history, is left alone)."""
    return row is not None and row.source == RUN_SOURCE and "launch" in (row.state or {})


@dataclass(frozen=True, order=True)
class ManagedEnvironment:
    """An environment the controller has deployed to at least once."""

    service_id: int
    environment_id: int
    service: str
    environment: str
    target_kind: str = "local"  # which controller drives it (`local`, `kubernetes`)

    @property
    def key(self) -> str:
        return f"{self.service}/{self.environment}"


# Every "newest X" query carries LIMIT 1: an ORM result is buffered whole, so `.first()`
# alone would load every matching row of a long history.


def active_deployment(
    session: Session, service_id: int, environment_id: int
) -> DeploymentRow | None:
    """The deployment the controller is running in the environment, if any (one awaiting
    approval is not run yet: see `open_deployment`)."""
    return _newest_in(session, service_id, environment_id, ACTIVE_STATUSES)


def open_deployment(session: Session, service_id: int, environment_id: int) -> DeploymentRow | None:
    """The deployment holding the environment: awaiting approval, or being run."""
    return _newest_in(session, service_id, environment_id, OPEN_STATUSES)


def _newest_in(
    session: Session, service_id: int, environment_id: int, statuses: tuple[str, ...]
) -> DeploymentRow | None:
    query = (
        select(DeploymentRow)
        .where(
            DeploymentRow.service_id == service_id,
            DeploymentRow.environment_id == environment_id,
            DeploymentRow.source == RUN_SOURCE,
            DeploymentRow.status.in_(statuses),
        )
        .order_by(DeploymentRow.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def current_deployment(
    session: Session, service_id: int, environment_id: int
) -> DeploymentRow | None:
    """The last deployment that succeeded there: its version serves the environment."""
    query = (
        select(DeploymentRow)
        .where(
            DeploymentRow.service_id == service_id,
            DeploymentRow.environment_id == environment_id,
            DeploymentRow.source == RUN_SOURCE,
            DeploymentRow.status == "succeeded",
        )
        .order_by(DeploymentRow.finished_at.desc(), DeploymentRow.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def succeeded_versions(session: Session, service_id: int, environment_id: int) -> list[str]:
    """Versions that succeeded in the environment (any source), newest first, no repeats."""
    query = (
        select(DeploymentRow.version)
        .where(
            DeploymentRow.service_id == service_id,
            DeploymentRow.environment_id == environment_id,
            DeploymentRow.status == "succeeded",
        )
        .order_by(DeploymentRow.finished_at.desc(), DeploymentRow.id.desc())
    )
    return list(dict.fromkeys(session.scalars(query)))


def latest_release(session: Session, service_id: int) -> ReleaseRow | None:
    query = select(ReleaseRow).where(ReleaseRow.service_id == service_id)
    return session.scalars(query.order_by(ReleaseRow.id.desc()).limit(1)).first()


def managed_environments(session: Session) -> list[ManagedEnvironment]:
    """Every environment with a deployment the controller ran (or runs)."""
    ran_here = (
        select(DeploymentRow.id)
        .where(DeploymentRow.environment_id == EnvironmentRow.id)
        .where(DeploymentRow.source == RUN_SOURCE)
        .exists()
    )
    query = (
        select(
            ServiceRow.id,
            EnvironmentRow.id,
            ServiceRow.name,
            EnvironmentRow.name,
            EnvironmentRow.target_kind,
        )
        .join(EnvironmentRow, EnvironmentRow.service_id == ServiceRow.id)
        .where(ran_here)
    )
    rows = session.execute(query).all()
    return sorted(ManagedEnvironment(*row) for row in rows)


def active_deployment_ids(session: Session) -> list[int]:
    """Ids of every deployment the controller still has to drive, oldest first."""
    query = (
        select(DeploymentRow.id)
        .where(DeploymentRow.source == RUN_SOURCE, DeploymentRow.status.in_(ACTIVE_STATUSES))
        .order_by(DeploymentRow.id)
    )
    return list(session.scalars(query))


def latest_run(session: Session, service_id: int, environment_id: int) -> DeploymentRow | None:
    """The newest deployment the controller ran in the environment, whatever its outcome."""
    query = (
        select(DeploymentRow)
        .where(
            DeploymentRow.service_id == service_id,
            DeploymentRow.environment_id == environment_id,
            DeploymentRow.source == RUN_SOURCE,
        )
        .order_by(DeploymentRow.id.desc())
    )
    return session.scalars(query.limit(1)).first()
