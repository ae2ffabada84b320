"""Orphans found and stopped. A worker is SIGKILLed while a canary serves part of the
traffic, and the database comes back without the canary's deployment (restored from a
backup taken before it): the canary's instances run and are routed, owned by no
deployment. The restarted worker reconciles the environment with the database: it routes
everything to the version the database says serves, stops the orphaned instances and
drops their entries from the router's table. Users keep being served throughout."""

from __future__ import annotations

from sqlalchemy import delete

from code_engine.deploy.router import BuiltinRouter
from code_engine.store.engine import make_database
from code_engine.store.tables import DeploymentRow

from .harness import Engine, Load, ServiceRepo, wait_until

HOLD = "[{set_weight: 30}, {pause: {}}]"  # the canary keeps 30% until someone resumes


def forget(engine: Engine, deployment_id: int) -> None:
    """The database as a backup taken before the deployment left it."""
    db = make_database(engine.database_url)
    try:
        with db.session() as session:
            session.execute(delete(DeploymentRow).where(DeploymentRow.id == deployment_id))
    finally:
        db.dispose()


def test_a_restarted_worker_stops_what_no_deployment_owns(
    engine: Engine, service: ServiceRepo
) -> None:
    service.first(engine, HOLD)
    service.release(engine, "v2", HOLD)
    deployment_id = service.deploy(engine, "v2")
    engine.wait(deployment_id, ("paused",), timeout=120)
    assert engine.weights(service.name, service.environment) == {"v1": 70, "v2": 30}
    run = engine.data_dir / "run" / service.name / service.environment
    with Load(service.url) as load:
        wait_until(lambda: load.versions["v2"] > 0, 30, "the canary serving")
        engine.kill_worker()
        forget(engine, deployment_id)
        engine.start_worker()

        def orphan_gone() -> bool:
            return set(engine.instances(service.name, service.environment)) == {"v1"}

        wait_until(orphan_gone, 60, "the orphaned v2 instances to be stopped")
        served = load.statuses.total()
        wait_until(lambda: load.statuses.total() > served + 20, 30, "requests after it")
    assert load.failures == []
    assert set(load.statuses) == {200}
    assert engine.weights(service.name, service.environment) == {"v1": 100}
    router = BuiltinRouter(str(run / "router.sock"))
    try:  # no entry left for v2, not even one of weight 0
        assert set(router.get_weights()) == {"v1"}
        assert set(router.get_backends()) == {"v1"}
    finally:
        router.close()
    assert "orphans_stopped" in (engine.root / "worker.log").read_text()
