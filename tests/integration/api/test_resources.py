"""The resource API over the in-process client, on SQLite and PostgreSQL."""

from __future__ import annotations

from starlette.testclient import TestClient


def _service(client: TestClient, headers: dict[str, str], name: str = "api") -> None:
    response = client.post(
        "/api/v1/services", json={"name": name, "repo": "git@x:y"}, headers=headers
    )
    assert response.status_code == 201, response.text


def test_services_create_show_and_conflict(client: TestClient, admin_headers) -> None:
    _service(client, admin_headers)
    shown = client.get("/api/v1/services/api", headers=admin_headers).json()
    assert [e["name"] for e in shown["environments"]] == ["dev", "staging", "prod"]
    assert shown["environments"][2]["requires_previous"] is True
    again = client.post("/api/v1/services", json={"name": "api"}, headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    envs = client.get("/api/v1/environments?service=api", headers=admin_headers).json()
    assert [e["position"] for e in envs] == [0, 1, 2]


def test_unknown_service_is_404_in_the_error_shape(client: TestClient, admin_headers) -> None:
    response = client.get("/api/v1/services/nope", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "no service named 'nope'", "details": None}
    }


def test_validation_errors_name_the_field(client: TestClient, admin_headers) -> None:
    response = client.post("/api/v1/services", json={"name": "Bad Name"}, headers=admin_headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"][0]["field"] == "body.name"


def test_pagination_walks_every_row_once(client: TestClient, admin_headers) -> None:
    for i in range(7):
        _service(client, admin_headers, f"svc-{i}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/services", params=params, headers=admin_headers).json()
        seen += [s["name"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"svc-{i}" for i in reversed(range(7))]
    bad = client.get("/api/v1/services?cursor=%%%", headers=admin_headers)
    assert bad.status_code == 422


def test_releases_deployments_and_idempotent_records(client: TestClient, admin_headers) -> None:
    _service(client, admin_headers)
    release = {"service": "api", "version": "1.2.0", "sha": "abcdef1"}
    assert client.post("/api/v1/releases", json=release, headers=admin_headers).status_code == 201
    dup = client.post("/api/v1/releases", json=release, headers=admin_headers)
    assert dup.status_code == 409
    body = {
        "service": "api",
        "environment": "prod",
        "version": "1.2.0",
        "status": "progressing",
        "external_id": "gh-1",
        "commits": ["abcdef1", "abcdef2"],
        "started_at": "2026-11-02T10:00:00+02:00",
    }
    first = client.post("/api/v1/deployments", json=body, headers=admin_headers).json()
    body.update(status="succeeded", finished_at="2026-11-02T10:05:00Z")
    second = client.post("/api/v1/deployments", json=body, headers=admin_headers).json()
    assert first["id"] == second["id"]
    assert second["status"] == "succeeded"
    assert second["started_at"].startswith("2026-11-02T08:00:00")
    assert sorted(second["commits"]) == ["abcdef1", "abcdef2"]
    listed = client.get(
        "/api/v1/deployments?service=api&environment=prod", headers=admin_headers
    ).json()
    assert [d["environment"] for d in listed["items"]] == ["prod"]
    assert client.get("/api/v1/deployments/999", headers=admin_headers).status_code == 404


def test_incidents_open_and_resolve(client: TestClient, admin_headers) -> None:
    _service(client, admin_headers)
    opened = client.post(
        "/api/v1/incidents",
        json={"service": "api", "title": "5xx spike", "environment": "prod"},
        headers=admin_headers,
    ).json()
    assert opened["resolved_at"] is None
    open_list = client.get("/api/v1/incidents?open_only=true", headers=admin_headers).json()
    assert [i["id"] for i in open_list["items"]] == [opened["id"]]
    resolved = client.post(
        f"/api/v1/incidents/{opened['id']}/resolve", json={}, headers=admin_headers
    )
    assert resolved.status_code == 200
    assert resolved.json()["resolved_at"] is not None
    again = client.post(f"/api/v1/incidents/{opened['id']}/resolve", json={}, headers=admin_headers)
    assert again.status_code == 409


def test_changes_are_idempotent_and_typed(client: TestClient, admin_headers) -> None:
    _service(client, admin_headers)
    change = {
        "service": "api",
        "sha": "1234567",
        "message": "feat(api)!: new thing",
        "authored_at": "2026-11-01T09:00:00Z",
        "committed_at": "2026-11-01T09:30:00Z",
    }
    client.post("/api/v1/changes", json=change, headers=admin_headers)
    client.post("/api/v1/changes", json=change, headers=admin_headers)
    items = client.get("/api/v1/changes?service=api", headers=admin_headers).json()["items"]
    assert len(items) == 1
    assert items[0]["conventional_type"] == "feat"


def test_actions_are_audited(client: TestClient, admin_headers) -> None:
    _service(client, admin_headers)
    events = client.get("/api/v1/audit", headers=admin_headers).json()["items"]
    assert events[0]["action"] == "service.create"
    assert events[0]["principal"] == "tester"


def test_readyz_reports_an_unmigrated_database(settings, clock, tmp_path) -> None:
    from code_engine.api import create_app
    from code_engine.store import make_database

    fresh = make_database(f"sqlite:///{tmp_path / 'empty.db'}")
    app = create_app(settings, clock=clock, database=fresh, migrate=False)
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"
