"""The deployments page (read on the driver's cursor) says what the detail route says."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from code_engine.dora.deployments import rfc3339

STAMPS = ["2026-10-01T09:00:00Z", "2026-10-01T09:00:00.250000Z", "2026-10-02T23:59:59.000001Z"]


def test_rfc3339_renders_as_the_api_does() -> None:
    assert rfc3339("2026-10-01 09:00:00.000000") == "2026-10-01T09:00:00Z"
    assert rfc3339("2026-10-01 09:00:00.250000") == "2026-10-01T09:00:00.250000Z"
    assert rfc3339("2026-10-01T11:00:00+02:00") == "2026-10-01T09:00:00Z"
    assert rfc3339(None) is None


def test_pages_and_filters_match_the_detail_route(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for name in ("api", "web"):
        client.post("/api/v1/services", json={"name": name}, headers=admin_headers)
    for n in range(7):
        body = {
            "service": "api" if n % 3 else "web",
            "environment": "prod" if n % 2 else "staging",
            "version": f"1.0.{n}",
            "status": "failed" if n == 4 else "succeeded",
            "external_id": f"d-{n}",
            "started_at": STAMPS[n % 3],
            "finished_at": STAMPS[2] if n != 6 else None,
        }
        body = {k: v for k, v in body.items() if v is not None}
        assert client.post("/api/v1/deployments", json=body, headers=admin_headers).is_success

    def pages(**params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/deployments", params=query, headers=admin_headers).json()
            items += page["items"]
            if not (cursor := page["next_cursor"]):
                return items

    everything = pages()
    assert [item["version"] for item in everything] == [f"1.0.{n}" for n in range(6, -1, -1)]
    for item in everything:
        shown = client.get(f"/api/v1/deployments/{item['id']}", headers=admin_headers).json()
        assert {key: shown[key] for key in item} == item
    assert {i["version"] for i in pages(service="api", environment="prod")} == {"1.0.1", "1.0.5"}
    assert [i["version"] for i in pages(status="failed")] == ["1.0.4"]
