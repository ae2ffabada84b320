"""Each successful deployment's stored lead times follow whatever arrives or changes.

A commit counts once, at the first successful deployment of its service and environment
that delivered it. The stored values must always equal that rule applied from scratch:
after an earlier deployment arrives late, a success turns into a rollback, a deployment
moves to another environment, its commit list shrinks, or a commit is imported later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from code_engine.catalog.store import EnvironmentDraft, create_service
from code_engine.dora.deliveries import unpack_seconds
from code_engine.dora.events import CommitEvent, DeploymentEvent, DeploymentStatus, Event
from code_engine.dora.fill import replace_commits
from code_engine.dora.ingest import ingest
from code_engine.store.engine import Database
from code_engine.store.tables import DeploymentRow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
A, B, C = "a" * 40, "b" * 40, "c" * 40
HOUR = 3600.0


def _setup(db: Database) -> None:
    envs = [EnvironmentDraft("staging"), EnvironmentDraft("prod")]
    with db.session() as session:
        create_service(session, "api", "", "", envs, T0)


def _send(db: Database, *events: Event) -> None:
    with db.session() as session:
        ingest(session, list(events), by="test", authorize_deploy=lambda _env: None)


def _commit(sha: str, hours_before: float = 0.0) -> CommitEvent:
    at = T0 - timedelta(hours=hours_before)
    return CommitEvent(sha=sha, service="api", authored_at=at, committed_at=at)


def _deployment(
    external_id: str,
    finished_hours: float,
    commits: tuple[str, ...],
    status: DeploymentStatus = DeploymentStatus.SUCCEEDED,
    environment: str = "prod",
) -> DeploymentEvent:
    finished = T0 + timedelta(hours=finished_hours)
    return DeploymentEvent(
        external_id=external_id,
        service="api",
        environment=environment,
        status=status,
        started_at=finished - timedelta(minutes=5),
        finished_at=finished,
        commits=commits,
    )


def _stored(db: Database) -> dict[str, tuple[list[float] | None, int]]:
    """External id → (stored lead times in hours, commits without a known start)."""
    d = DeploymentRow
    with db.session() as session:
        rows = session.execute(select(d.external_id, d.lead_times, d.lead_unknown)).all()
    return {
        str(ext): (None if packed is None else [x / HOUR for x in unpack_seconds(packed)], n)
        for ext, packed, n in rows
    }


def test_an_earlier_deployment_arriving_late_takes_the_commits_it_delivered(
    database: Database,
) -> None:
    _setup(database)
    _send(database, _commit(A, 1), _commit(B, 2), _deployment("late", 5, (A, B)))
    assert _stored(database) == {"late": ([6.0, 7.0], 0)}
    _send(database, _deployment("early", 2, (A,)))
    assert _stored(database) == {"late": ([7.0], 0), "early": ([3.0], 0)}


def test_a_success_turned_rollback_hands_its_commits_to_the_next_delivery(
    database: Database,
) -> None:
    _setup(database)
    first = _deployment("first", 1, (A,))
    _send(database, _commit(A, 1), first, _deployment("again", 4, (A,)))
    assert _stored(database) == {"first": ([2.0], 0), "again": ([], 0)}
    _send(database, replace(first, status=DeploymentStatus.ROLLED_BACK))
    assert _stored(database) == {"first": (None, 0), "again": ([5.0], 0)}


def test_environments_count_their_first_deliveries_apart(database: Database) -> None:
    _setup(database)
    staging = _deployment("s", 1, (A,), environment="staging")
    _send(database, _commit(A, 1), staging, _deployment("p", 3, (A,)))
    assert _stored(database) == {"s": ([2.0], 0), "p": ([4.0], 0)}
    _send(database, _deployment("late-prod", 2, (A,)))
    assert _stored(database)["p"] == ([], 0)
    # the staging deployment was reported in the wrong environment: it moves to prod
    # (a later start makes the corrected version win, see `dora.dedupe`)
    moved = replace(staging, environment="prod", started_at=staging.finished_at)
    _send(database, moved)
    assert _stored(database) == {"s": ([2.0], 0), "p": ([], 0), "late-prod": ([], 0)}


def test_a_commit_imported_later_turns_unknown_into_a_lead_time(database: Database) -> None:
    _setup(database)
    _send(database, _deployment("d", 2, (A, C)))
    assert _stored(database) == {"d": ([], 2)}
    _send(database, _commit(C, 10))
    assert _stored(database) == {"d": ([12.0], 1)}


def test_commits_taken_off_a_deployment_go_back_to_the_next_one(database: Database) -> None:
    _setup(database)
    _send(database, _commit(A), _commit(B), _deployment("one", 1, (A, B)))
    _send(database, _deployment("two", 3, (A, B)))
    assert _stored(database) == {"one": ([1.0, 1.0], 0), "two": ([], 0)}
    with database.session() as session:
        row = session.scalars(select(DeploymentRow).where(DeploymentRow.external_id == "one"))
        replace_commits(session, row.one().id, [B])
    assert _stored(database) == {"one": ([1.0], 0), "two": ([3.0], 0)}


def test_failed_deployments_store_nothing(database: Database) -> None:
    _setup(database)
    failed = _deployment("f", 1, (A,), status=DeploymentStatus.FAILED)
    _send(database, _commit(A), failed, _deployment("ok", 2, (A,)))
    assert _stored(database) == {"f": (None, 0), "ok": ([2.0], 0)}


def test_a_failure_reported_again_as_a_success_takes_its_commits(database: Database) -> None:
    _setup(database)
    failed = _deployment("f", 1, (A,), status=DeploymentStatus.FAILED)
    _send(database, _commit(A), _commit(B), failed, _deployment("ok", 2, (A, B)))
    # still failed, now listing B too: nothing counts for it, the success keeps both
    _send(database, replace(failed, commits=(A, B), started_at=failed.finished_at))
    assert _stored(database) == {"f": (None, 0), "ok": ([2.0, 2.0], 0)}
    # retried in place and finished later, still before the other one
    _send(database, _deployment("f", 1.5, (A, B)))
    assert _stored(database) == {"f": ([1.5, 1.5], 0), "ok": ([], 0)}
