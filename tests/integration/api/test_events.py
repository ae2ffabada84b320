"""`POST /api/v1/events`: all-or-nothing batches, idempotent by external id."""

from __future__ import annotations

from starlette.testclient import TestClient

SHA1 = "a" * 40
SHA2 = "b" * 40


def _batch() -> dict[str, object]:
    return {
        "events": [
            {
                "type": "commit",
                "id": SHA1,
                "service": "api",
                "message": "feat: one",
                "authored_at": "2026-11-01T08:00:00Z",
                "committed_at": "2026-11-01T08:10:00Z",
            },
            {
                "type": "deployment",
                "id": "deploy-7",
                "service": "api",
                "environment": "prod",
                "status": "succeeded",
                "started_at": "2026-11-02T09:00:00+01:00",
                "finished_at": "2026-11-02T09:05:00+01:00",
                "commits": [SHA1, SHA2],
            },
            {
                "type": "incident",
                "id": "inc-1",
                "service": "api",
                "environment": "prod",
                "opened_at": "2026-11-02T10:00:00Z",
                "title": "errors",
                "deployment_id": "deploy-7",
            },
        ]
    }


def _setup(client: TestClient, headers: dict[str, str]) -> None:
    assert client.post("/api/v1/services", json={"name": "api"}, headers=headers).status_code == 201


def test_batch_is_ingested_once(client: TestClient, admin_headers) -> None:
    _setup(client, admin_headers)
    first = client.post("/api/v1/events", json=_batch(), headers=admin_headers)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "received": 3,
        "created": {"commit": 1, "deployment": 1, "incident": 1},
        "updated": {"commit": 0, "deployment": 0, "incident": 0},
        "unchanged": {"commit": 0, "deployment": 0, "incident": 0},
    }
    again = client.post("/api/v1/events", json=_batch(), headers=admin_headers).json()
    assert again["created"] == {"commit": 0, "deployment": 0, "incident": 0}
    deployments = client.get("/api/v1/deployments", headers=admin_headers).json()["items"]
    assert len(deployments) == 1 and deployments[0]["finished_at"].startswith("2026-11-02T08:05")
    detail = client.get(f"/api/v1/deployments/{deployments[0]['id']}", headers=admin_headers)
    assert sorted(detail.json()["commits"]) == [SHA1, SHA2]
    incident = client.get("/api/v1/incidents", headers=admin_headers).json()["items"][0]
    assert incident["deployment_id"] == deployments[0]["id"]


def test_a_bad_event_rejects_the_whole_batch(client: TestClient, admin_headers) -> None:
    _setup(client, admin_headers)
    batch = _batch()
    batch["events"][2]["service"] = "ghost"  # type: ignore[index]
    batch["events"][1]["environment"] = "moon"  # type: ignore[index]
    response = client.post("/api/v1/events", json=batch, headers=admin_headers)
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert fields == ["events.1.environment", "events.2.service"]
    assert client.get("/api/v1/changes", headers=admin_headers).json()["items"] == []


def test_schema_errors_name_the_field(client: TestClient, admin_headers) -> None:
    _setup(client, admin_headers)
    batch = _batch()
    batch["events"][0]["authored_at"] = "yesterday"  # type: ignore[index]
    response = client.post("/api/v1/events", json=batch, headers=admin_headers)
    assert response.status_code == 422
    assert any("authored_at" in d["field"] for d in response.json()["error"]["details"])


def test_deployment_events_need_deployer_on_that_environment(
    client: TestClient, admin_headers, make_token
) -> None:
    _setup(client, admin_headers)
    staging = {"Authorization": f"Bearer {make_token('developer', 'deployer:staging')}"}
    response = client.post("/api/v1/events", json=_batch(), headers=staging)
    assert response.status_code == 403
    assert client.get("/api/v1/changes", headers=admin_headers).json()["items"] == []
