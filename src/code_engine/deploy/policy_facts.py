"""The facts of a policy decision that live in the database, gathered in one query: the
deployment history of the release's version, the service's last assessment, and whether the
release's commit has a clean pipeline run (only then is its qualification read, by the
pipeline's own query)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, join, select
from sqlalchemy.orm import Session

from code_engine.pipeline import store as pipeline_store
from code_engine.store.tables import (
    AssessmentRow,
    DeploymentRow,
    EnvironmentRow,
    ReleaseRow,
    ServiceRow,
)


@dataclass(frozen=True)
class Stored:
    """What the database says about a release, for its policy input."""

    history: list[dict[str, Any]]  # every deployment of this version, oldest first
    assessment: dict[str, Any] | None  # the service's last assessment: level and time
    clean_run: bool  # the release's commit has a clean pipeline run


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def gather(session: Session, service_id: int, version: str, sha: str) -> Stored:
    """One row per deployment of `version` (or one empty row when there is none), each with
    the last assessment and the clean-run flag alongside."""
    newest = (
        select(AssessmentRow)
        .where(AssessmentRow.service_id == service_id)
        .order_by(AssessmentRow.created_at.desc(), AssessmentRow.id.desc())
        .limit(1)
    )
    deployed = join(
        DeploymentRow, EnvironmentRow, EnvironmentRow.id == DeploymentRow.environment_id
    )
    query = (
        select(
            newest.with_only_columns(AssessmentRow.level).scalar_subquery().label("level"),
            newest.with_only_columns(AssessmentRow.created_at).scalar_subquery().label("at"),
            pipeline_store.has_clean_run(service_id, sha).label("clean_run"),
            DeploymentRow.id,
            EnvironmentRow.name,
            DeploymentRow.version,
            ReleaseRow.sha,
            DeploymentRow.status,
            DeploymentRow.trigger,
            DeploymentRow.created_by,
            DeploymentRow.created_at,
            DeploymentRow.finished_at,
        )
        .select_from(ServiceRow)
        .outerjoin(
            deployed,
            and_(DeploymentRow.service_id == ServiceRow.id, DeploymentRow.version == version),
        )
        .outerjoin(ReleaseRow, ReleaseRow.id == DeploymentRow.release_id)
        .where(ServiceRow.id == service_id)
        .order_by(DeploymentRow.id)
    )
    rows = session.execute(query).all()
    if not rows:  # no such service: nothing stored about it
        return Stored([], None, False)
    first = rows[0]
    history = [
        {
            "id": row.id,
            "environment": row.name,
            "version": row.version,
            "commit": row.sha,
            "status": row.status,
            "trigger": row.trigger,
            "created_by": row.created_by,
            "created_at": _iso(row.created_at),
            "finished_at": _iso(row.finished_at),
        }
        for row in rows
        if row.id is not None
    ]
    assessment = None if first.level is None else {"level": first.level, "at": _iso(first.at)}
    return Stored(history, assessment, bool(first.clean_run))
