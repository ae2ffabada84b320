"""Each delivered commit's stored change start follows the commit, whatever arrives first.

`deployment_changes.change_started_epoch` copies the change start of the commit the same
service imported (NULL while unknown): filled when a deployment's commits are recorded,
and again when the commit arrives later or a winning version of it replaces the stored one.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from code_engine.catalog.store import (
    EnvironmentDraft,
    create_service,
    find_service,
    list_environments,
)
from code_engine.dora.deployments import DeploymentRecord
from code_engine.dora.events import CommitEvent, DeploymentEvent, DeploymentStatus, Event
from code_engine.dora.ingest import ingest
from code_engine.dora.recording import record_deployment
from code_engine.store.engine import Database
from code_engine.store.tables import DeploymentChangeRow, DeploymentRow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SHA = "a" * 40
OTHER = "b" * 40


def _setup(db: Database) -> None:
    with db.session() as session:
        for name in ("api", "web"):
            create_service(session, name, "", "", [EnvironmentDraft("prod")], T0)


def _send(db: Database, *events: Event) -> None:
    with db.session() as session:
        ingest(session, list(events), by="test", authorize_deploy=lambda _env: None)


def _commit(first: timedelta | None = None, service: str = "api") -> CommitEvent:
    return CommitEvent(
        sha=SHA,
        service=service,
        authored_at=T0,
        committed_at=T0 + timedelta(minutes=5),
        first_commit_at=None if first is None else T0 - first,
    )


def _deployment(external_id: str = "d1", service: str = "api") -> DeploymentEvent:
    return DeploymentEvent(
        external_id=external_id,
        service=service,
        environment="prod",
        status=DeploymentStatus.SUCCEEDED,
        started_at=T0 + timedelta(hours=1),
        finished_at=T0 + timedelta(hours=2),
        commits=(SHA, OTHER),
    )


def _starts(db: Database) -> dict[tuple[str, str], datetime | None]:
    """(deployment external id, sha) → stored change start, read from the database."""
    dc, d = DeploymentChangeRow, DeploymentRow
    query = select(d.external_id, dc.sha, dc.change_started_epoch).join(d, d.id == dc.deployment_id)
    with db.session() as session:
        return {
            (ext or "", sha): None if start is None else datetime.fromtimestamp(start, timezone.utc)
            for ext, sha, start in session.execute(query)
        }


def test_a_commit_known_before_its_deployment_is_copied(database: Database) -> None:
    _setup(database)
    _send(database, _commit(first=timedelta(hours=3)), _deployment())
    assert _starts(database) == {("d1", SHA): T0 - timedelta(hours=3), ("d1", OTHER): None}


def test_a_commit_arriving_after_its_deployment_fills_the_start(database: Database) -> None:
    _setup(database)
    _send(database, _deployment())
    assert _starts(database) == {("d1", SHA): None, ("d1", OTHER): None}
    _send(database, _commit())
    assert _starts(database) == {("d1", SHA): T0, ("d1", OTHER): None}


def test_a_winning_reimport_with_another_first_commit_updates_the_start(
    database: Database,
) -> None:
    _setup(database)
    _send(database, _deployment(), _commit(first=timedelta(hours=3)))
    _send(database, _commit(first=timedelta(hours=1)))  # later first commit: it wins
    assert _starts(database)[("d1", SHA)] == T0 - timedelta(hours=1)
    _send(database, _commit())  # without a first commit: the stored version wins
    assert _starts(database)[("d1", SHA)] == T0 - timedelta(hours=1)


def test_the_same_sha_in_another_service_is_left_alone(database: Database) -> None:
    _setup(database)
    _send(database, _deployment(), _deployment("w1", service="web"))
    _send(database, _commit(first=timedelta(hours=2), service="web"))
    starts = _starts(database)
    assert starts[("d1", SHA)] is None
    assert starts[("w1", SHA)] == T0 - timedelta(hours=2)


def test_deployments_recorded_by_the_controller_carry_the_start(database: Database) -> None:
    _setup(database)
    _send(database, _commit(first=timedelta(hours=3)))
    with database.session() as session:
        service = find_service(session, "api")
        assert service is not None
        (prod,) = list_environments(session, service.id)
        record = DeploymentRecord(
            service_id=service.id,
            environment_id=prod.id,
            version="1.0",
            status="succeeded",
            created_at=T0,
            external_id="c1",
            finished_at=T0 + timedelta(hours=1),
            commits=(SHA, OTHER),
        )
        record_deployment(session, record)
    assert _starts(database) == {("c1", SHA): T0 - timedelta(hours=3), ("c1", OTHER): None}
    _send(database, _commit(first=timedelta(hours=1)))
    assert _starts(database)[("c1", SHA)] == T0 - timedelta(hours=1)
