"""A list's cursor is accepted by that list only (same resource, same filters)."""

from __future__ import annotations

import base64

from starlette.testclient import TestClient


def test_a_cursor_works_on_its_own_list_only(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for name in ("a", "b", "c"):
        client.post("/api/v1/services", json={"name": name}, headers=admin_headers)
        for env in ("dev", "prod"):
            body = {"service": name, "environment": env, "version": "1.0.0"}
            assert client.post("/api/v1/deployments", json=body, headers=admin_headers).is_success
    first = client.get("/api/v1/deployments?limit=2", headers=admin_headers).json()
    cursor = first["next_cursor"]
    following = client.get(
        "/api/v1/deployments", params={"limit": 2, "cursor": cursor}, headers=admin_headers
    ).json()
    ids = [d["id"] for d in first["items"] + following["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    # the page size may change between pages: it is not part of the list
    assert client.get(
        "/api/v1/deployments", params={"limit": 3, "cursor": cursor}, headers=admin_headers
    ).is_success
    for path, params in (
        ("/api/v1/services", {}),
        ("/api/v1/audit", {}),
        ("/api/v1/deployments", {"status": "succeeded"}),
        ("/api/v1/deployments", {"service": "a"}),
    ):
        foreign = client.get(path, params={**params, "cursor": cursor}, headers=admin_headers)
        assert foreign.status_code == 422, (path, params, foreign.text)
        assert foreign.json()["error"]["message"].startswith("cursor: made by another list")
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    version, last, digest = raw.split(":")
    for forged in (f"{version}:{int(last) + 1}:{digest[:-1]}x", "id:3", f"{version}:x:{digest}"):
        altered = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
        refused = client.get(
            "/api/v1/deployments", params={"cursor": altered}, headers=admin_headers
        )
        assert refused.status_code == 422, forged
    garbage = client.get("/api/v1/deployments?cursor=%25%25", headers=admin_headers)
    assert garbage.status_code == 422
    assert "not a cursor of this API" in garbage.json()["error"]["message"]
