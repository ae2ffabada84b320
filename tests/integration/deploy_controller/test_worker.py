"""The worker leaves alone what it did not plan: recorded deployments, even `progressing` ones."""

from __future__ import annotations

from pathlib import Path

from code_engine.catalog.store import EnvironmentDraft, create_service, list_environments
from code_engine.clock import Clock
from code_engine.deploy import store
from code_engine.deploy.views import environment_status
from code_engine.store.engine import Database
from code_engine.worker import Worker, WorkerConfig


def test_a_recorded_progressing_deployment_is_not_driven(
    database: Database, data_dir: Path, clock: Clock
) -> None:
    with database.session() as session:
        service = create_service(session, "shop", "", "", [EnvironmentDraft("prod")], clock())
        [env] = list_environments(session, service.id)
        store.record_deployment(
            session,
            store.DeploymentRecord(
                service_id=service.id,
                environment_id=env.id,
                version="2.4.0",
                status="progressing",
                created_at=clock(),
                state={"format": 1, "phase": "stepping", "current_weight": 25},
            ),
        )
    worker = Worker(database, WorkerConfig(data_dir=data_dir), clock)
    worker.tick()
    worker.close()
    assert not (data_dir / "run").exists()  # no router, no supervisor
    with database.session() as session:
        [status] = environment_status(session, "shop")
    assert status["active"]["progress"] is None
    assert status["active"]["status"] == "progressing"
