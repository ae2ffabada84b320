"""A recorded deployment claiming to be a rollout CODE runs, in flight where one already is:
a clear 409 (ConflictError), never a database error, and the transaction stays usable."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient

from code_engine.catalog.store import find_service
from code_engine.catalog.store import require_environment as find_environment
from code_engine.dora.deployments import DeploymentRecord
from code_engine.dora.recording import record_deployment
from code_engine.errors import ConflictError
from code_engine.store.engine import Database

AT = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)


def _record(
    ids: tuple[int, int], status: str, source: str, external_id: str | None
) -> DeploymentRecord:
    return DeploymentRecord(
        service_id=ids[0], environment_id=ids[1], version="1.0.0", status=status,
        created_at=AT, external_id=external_id, source=source,
    )  # fmt: skip


def test_a_recorded_code_rollout_in_flight_beside_one_is_a_conflict(
    client: TestClient, admin_headers: dict[str, str], database: Database
) -> None:
    created = client.post("/api/v1/services", json={"name": "api"}, headers=admin_headers)
    assert created.status_code == 201, created.text
    with database.session() as session:
        service = find_service(session, "api")
        assert service is not None
        ids = (service.id, find_environment(session, service.id, "dev").id)
        record_deployment(session, _record(ids, "progressing", "code", None))  # CODE's own
        with pytest.raises(ConflictError, match="already in flight"):
            record_deployment(session, _record(ids, "pending", "code", "ext-1"))
        row, outcome = record_deployment(session, _record(ids, "progressing", "api", "ext-2"))
        assert outcome == "created" and row.source == "api"
        # an update that would move a recorded one into the rollout's place is refused too
        record_deployment(session, _record(ids, "succeeded", "code", "ext-3"))
        with pytest.raises(ConflictError):
            record_deployment(session, _record(ids, "pending", "code", "ext-3"))
        session.commit()
    response = client.get("/api/v1/deployments?service=api", headers=admin_headers)
    assert response.status_code == 200
    assert sorted(d["external_id"] or "" for d in response.json()["items"]) == [
        "", "ext-2", "ext-3"
    ]  # fmt: skip
