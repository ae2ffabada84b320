"""The facts of a policy decision that live in the database, gathered in one query: the
deployment history of the release's version, the service's last assessment, and whether the
release's commit has a clean pipeline run (only then is its qualification read, by the
pipeline's own query)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, String, and_, bindparam, join, select
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


_SERVICE = bindparam("service_id", type_=Integer)
_VERSION = bindparam("version", type_=String)
_FULL_SHA = bindparam("sha", type_=String)


def _statement(clean_run: ColumnElement[bool]) -> Select[Any]:
    newest = (
        select(AssessmentRow)
        .where(AssessmentRow.service_id == _SERVICE)
        .order_by(AssessmentRow.created_at.desc(), AssessmentRow.id.desc())
        .limit(1)
    )
    deployed = join(
        DeploymentRow, EnvironmentRow, EnvironmentRow.id == DeploymentRow.environment_id
    )
    return (
        select(
            newest.with_only_columns(AssessmentRow.level).scalar_subquery().label("level"),
            newest.with_only_columns(AssessmentRow.created_at).scalar_subquery().label("at"),
            clean_run.label("clean_run"),
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
            and_(DeploymentRow.service_id == ServiceRow.id, DeploymentRow.version == _VERSION),
        )
        .outerjoin(ReleaseRow, ReleaseRow.id == DeploymentRow.release_id)
        .where(ServiceRow.id == _SERVICE)
        .order_by(DeploymentRow.id)
    )


@functools.cache
def _built(full_sha: bool) -> Select[Any]:
    """The statement, built once: building one costs more than running it."""
    return _statement(pipeline_store.has_clean_run(_SERVICE, _FULL_SHA if full_sha else ""))


def gather(session: Session, service_id: int, version: str, sha: str) -> Stored:
    """One row per deployment of `version` (or one empty row when there is none), each with
    the last assessment and the clean-run flag alongside."""
    if not sha or len(sha) >= 40:
        query = _built(bool(sha))
    else:  # an abbreviated sha (a release of a repository CODE cannot read): a prefix
        query = _statement(pipeline_store.has_clean_run(_SERVICE, sha))
    params = {"service_id": service_id, "version": version, "sha": sha}
    session.flush()  # as a query through the session would: pending writes are seen
    rows = session.connection().execute(query, params).all()
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
