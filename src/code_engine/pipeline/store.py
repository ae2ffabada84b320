"""Recorded pipeline runs: the one writer, the queries, and a commit's qualification."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, false, literal, select
from sqlalchemy.orm import Session

from code_engine.audit import trail as audit
from code_engine.catalog.store import require_service
from code_engine.pipeline import tables  # noqa: F401 - registers the table on the metadata
from code_engine.pipeline.evidence import (
    Artifact,
    GateResult,
    Qualification,
    RecordedRun,
    RunReport,
    StepResult,
    qualify,
)
from code_engine.pipeline.tables import PipelineRunRow
from code_engine.store.pagination import Page, paginate
from code_engine.store.tables import ReleaseRow, ServiceRow

# a commit's runs considered for its qualification (newest first)
_QUALIFYING_RUNS = 20


def record_run(session: Session, report: RunReport, by: str, now: datetime) -> PipelineRunRow:
    """Store one run of a service's pipeline (the only writer of `pipeline_runs`)."""
    service = require_service(session, report.service)
    row = PipelineRunRow(
        service_id=service.id,
        commit=report.commit,
        dirty=report.dirty,
        status=report.status,
        started_at=report.started_at,
        finished_at=report.finished_at,
        duration_s=report.duration_s,
        recorded_at=now,
        recorded_by=by,
        steps=[_plain(step) for step in report.steps],
        gates=[_plain(gate) for gate in report.gates],
        artifacts=[_plain(artifact) for artifact in report.artifacts],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=now,
        principal=by,
        action="pipeline.run.record",
        resource=f"service/{service.name}/pipeline-run/{row.id}",
        detail={"commit": report.commit, "status": report.status, "dirty": report.dirty},
    )
    return row


def list_runs(
    session: Session,
    limit: int,
    cursor: str | None,
    service_id: int | None = None,
    commit: str | None = None,
) -> Page[PipelineRunRow]:
    """Runs newest first, filtered by service and commit (a prefix of 7+ hex digits)."""
    query = select(PipelineRunRow)
    if service_id is not None:
        query = query.where(PipelineRunRow.service_id == service_id)
    if commit:
        query = query.where(PipelineRunRow.commit.startswith(commit, autoescape=True))
    return paginate(session, query, PipelineRunRow.id, limit, cursor)


def qualification(session: Session, service_id: int, sha: str) -> Qualification:
    """Whether the service's commit `sha` has a passing clean run (see `evidence.qualify`)."""
    if not sha:
        return qualify(sha, [])
    query = (
        select(PipelineRunRow)
        .where(PipelineRunRow.service_id == service_id, _same_commit(sha))
        .order_by(PipelineRunRow.id.desc())
        .limit(_QUALIFYING_RUNS)
    )
    return qualify(sha, [to_recorded(row, "") for row in session.scalars(query)])


def has_clean_run(service_id: Any, sha: str | BindParameter[str]) -> ColumnElement[bool]:
    """SQL: whether the service's commit `sha` has a clean run; without one, `qualification`
    names no run (a caller can skip it, e.g. inside a query it makes anyway). `sha` is a
    value, or a bound parameter that stands for a full sha (for a statement built once)."""
    if isinstance(sha, str) and not sha:
        return false()
    same = _same_commit(sha) if isinstance(sha, str) else PipelineRunRow.commit == sha
    query = select(PipelineRunRow.id).where(
        PipelineRunRow.service_id == service_id, same, PipelineRunRow.dirty.is_(False)
    )
    return query.exists()


def qualifications(
    session: Session, commits: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], Qualification]:
    """`qualification` of many (service id, sha) pairs, full shas in one query."""
    wanted = set(commits)
    full = {key for key in wanted if len(key[1]) >= 40}
    runs: dict[tuple[int, str], list[RecordedRun]] = defaultdict(list)
    if full:
        query = (
            select(PipelineRunRow)
            .where(
                PipelineRunRow.service_id.in_({service_id for service_id, _ in full}),
                PipelineRunRow.commit.in_({sha for _, sha in full}),
            )
            .order_by(PipelineRunRow.id.desc())
        )
        for row in session.scalars(query):
            runs[(row.service_id, row.commit)].append(to_recorded(row, ""))
    return {
        key: qualify(key[1], runs[key]) if key in full else qualification(session, *key)
        for key in wanted
    }


def releases_at(session: Session, service_id: int, commit: str) -> list[str]:
    """Versions of the service released at `commit`: a run there re-evaluates them."""
    query = select(ReleaseRow.version).where(
        ReleaseRow.service_id == service_id,
        ReleaseRow.sha != "",
        literal(commit).startswith(ReleaseRow.sha),  # a full sha, or an abbreviated one
    )
    return list(session.scalars(query.order_by(ReleaseRow.id)))


def latest_runs(session: Session, per_service: int = 5) -> dict[str, list[PipelineRunRow]]:
    """The newest runs of each service, by service name (for the dashboard)."""
    shown: dict[str, list[PipelineRunRow]] = {}
    services = session.execute(select(ServiceRow.id, ServiceRow.name).order_by(ServiceRow.name))
    for service_id, name in services.all():
        query = (
            select(PipelineRunRow)
            .where(PipelineRunRow.service_id == service_id)
            .order_by(PipelineRunRow.id.desc())
            .limit(per_service)
        )
        rows = list(session.scalars(query))
        if rows:
            shown[name] = rows
    return shown


def to_recorded(row: PipelineRunRow, service: str) -> RecordedRun:
    """The domain form of a stored run."""
    report = RunReport(
        service=service,
        commit=row.commit,
        dirty=row.dirty,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        steps=tuple(StepResult(**step) for step in row.steps),
        gates=tuple(GateResult(**gate) for gate in row.gates),
        artifacts=tuple(Artifact(**artifact) for artifact in row.artifacts),
    )
    return RecordedRun(row.id, report)


def _same_commit(sha: str) -> Any:
    if len(sha) >= 40:
        return PipelineRunRow.commit == sha
    # a release recorded with an abbreviated sha (a repository CODE cannot read)
    return PipelineRunRow.commit.startswith(sha, autoescape=True)


def _plain(item: StepResult | GateResult | Artifact) -> dict[str, Any]:
    return dict(vars(item))


def service_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Names of the services with these ids."""
    if not ids:
        return {}
    query = select(ServiceRow.id, ServiceRow.name).where(ServiceRow.id.in_(ids))
    return dict(session.execute(query).tuples().all())
