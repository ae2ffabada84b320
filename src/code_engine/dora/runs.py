"""The deployments CODE runs, as the deployment store answers for them: the current, the
active and the open deployment of an environment, and the environments CODE manages.

Every query on deployments lives in the deployment store (`dora.deployments` for lists and
summaries, this module for what runs where); the deploy capability and the dashboard ask
it rather than writing their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.errors import NotFoundError
from code_engine.store.tables import DeploymentRow, EnvironmentRow, ServiceRow

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


def locked_deployment(session: Session, deployment_id: int) -> DeploymentRow:
    """The deployment, locked and read afresh: two reviews of it never both pass."""
    query = select(DeploymentRow).where(DeploymentRow.id == deployment_id).with_for_update()
    row = session.scalars(query.execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFoundError(f"no deployment {deployment_id}")
    return row


def latest_in_environment(session: Session, environment_id: int) -> DeploymentRow | None:
    """The newest deployment asked for in the environment (any source, any status)."""
    query = (
        select(DeploymentRow)
        .where(DeploymentRow.environment_id == environment_id)
        .order_by(DeploymentRow.created_at.desc(), DeploymentRow.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def deployment_environment(session: Session, deployment_id: int) -> str | None:
    """The environment of a deployment, None when there is no such deployment."""
    query = (
        select(EnvironmentRow.name)
        .join(DeploymentRow, DeploymentRow.environment_id == EnvironmentRow.id)
        .where(DeploymentRow.id == deployment_id)
    )
    return session.scalars(query).first()


def existing_deployment_environment(session: Session, external_id: str | None) -> str | None:
    """The environment of the deployment an idempotency key would overwrite."""
    if not external_id:
        return None
    query = (
        select(EnvironmentRow.name)
        .join(DeploymentRow, DeploymentRow.environment_id == EnvironmentRow.id)
        .where(DeploymentRow.external_id == external_id)
    )
    return session.scalars(query).first()
