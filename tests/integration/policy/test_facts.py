"""The stored facts of a decision, in one query, on SQLite and PostgreSQL: the deployment
history of the version, the last assessment, and whether the commit has a clean pipeline run
(only then does the pipeline's qualification query run)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from code_engine.catalog.store import EnvironmentDraft, create_service
from code_engine.deploy.policy_facts import gather
from code_engine.pipeline import store as pipeline_store
from code_engine.pipeline.tables import PipelineRunRow
from code_engine.store.engine import Database
from code_engine.store.tables import AssessmentRow, DeploymentRow, EnvironmentRow, ReleaseRow

NOW = datetime(2026, 12, 4, 15, 30, tzinfo=timezone.utc)
SHA = "a" * 40


def run(service_id: int, commit: str, *, dirty: bool, status: str = "passed") -> PipelineRunRow:
    return PipelineRunRow(
        service_id=service_id,
        commit=commit,
        dirty=dirty,
        status=status,
        started_at=NOW,
        finished_at=NOW,
        recorded_at=NOW,
        recorded_by="ci",
    )


def test_nothing_stored_gives_empty_facts(database: Database) -> None:
    with database.session() as session:
        service = create_service(session, "shop", "", "", [EnvironmentDraft("dev")], NOW)
        session.flush()
        stored = gather(session, service.id, "1.0.0", SHA)
        assert (stored.history, stored.assessment, stored.clean_run) == ([], None, False)
        assert gather(session, service.id + 99, "1.0.0", SHA).history == []


def test_history_assessment_and_clean_run_in_one_query(database: Database) -> None:
    with database.session() as session:
        service = create_service(
            session, "shop", "", "", [EnvironmentDraft("dev"), EnvironmentDraft("prod")], NOW
        )
        other = create_service(session, "other", "", "", [EnvironmentDraft("dev")], NOW)
        session.flush()
        envs = {e.name: e for e in session.query(EnvironmentRow).filter_by(service_id=service.id)}
        release = ReleaseRow(service_id=service.id, version="1.0.0", sha=SHA, created_at=NOW)
        session.add(release)
        session.flush()
        for env, version, status in (
            ("dev", "1.0.0", "succeeded"),
            ("prod", "0.9.0", "succeeded"),  # another version: not its history
            ("prod", "1.0.0", "failed"),
        ):
            session.add(
                DeploymentRow(
                    service_id=service.id,
                    environment_id=envs[env].id,
                    release_id=release.id if version == "1.0.0" else None,
                    version=version,
                    status=status,
                    created_by="alice",
                    created_at=NOW,
                    finished_at=NOW + timedelta(minutes=1) if status == "succeeded" else None,
                )
            )
        for level, at in ((1, NOW - timedelta(days=2)), (3, NOW - timedelta(days=1))):
            session.add(AssessmentRow(service_id=service.id, level=level, created_at=at))
        session.add(AssessmentRow(service_id=other.id, level=5, created_at=NOW))
        session.add(run(service.id, SHA, dirty=True))  # a dirty run does not qualify
        session.add(run(other.id, SHA, dirty=False))  # nor another service's
        session.flush()

        stored = gather(session, service.id, "1.0.0", SHA)
        assert [(h["environment"], h["status"], h["commit"]) for h in stored.history] == [
            ("dev", "succeeded", SHA),
            ("prod", "failed", SHA),
        ]
        first = stored.history[0]
        assert first["version"] == "1.0.0" and first["created_by"] == "alice"
        assert first["created_at"].startswith("2026-12-04T15:30")
        assert first["finished_at"].startswith("2026-12-04T15:31")
        assert stored.history[1]["finished_at"] is None
        assert stored.assessment is not None and stored.assessment["level"] == 3
        assert stored.assessment["at"].startswith("2026-12-03T15:30")
        assert not stored.clean_run
        assert pipeline_store.qualification(session, service.id, SHA).run_id is None

        session.add(run(service.id, SHA, dirty=False, status="failed"))
        session.flush()
        assert gather(session, service.id, "1.0.0", SHA).clean_run
        assert gather(session, service.id, "1.0.0", SHA[:12]).clean_run  # abbreviated
        assert not gather(session, service.id, "1.0.0", "").clean_run
        assert pipeline_store.qualification(session, service.id, SHA).run_id is not None
