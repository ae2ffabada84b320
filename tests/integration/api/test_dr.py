"""`/api/v1/backups` and `/api/v1/dr/*`: evidence served, actions admin-only and audited."""

from __future__ import annotations

from starlette.testclient import TestClient


def test_backups_drills_status_and_restore(
    client: TestClient, admin_headers: dict[str, str], make_token
) -> None:
    viewer = {"Authorization": f"Bearer {make_token('viewer')}"}
    status = client.get("/api/v1/dr/status", headers=viewer).json()
    assert status["rpo_breached"] is True  # nothing backed up yet
    assert {s["source"] for s in status["sources"]} == {"code-database", "code-data"}

    assert client.post("/api/v1/backups", json={}, headers=viewer).status_code == 403
    taken = client.post("/api/v1/backups", json={}, headers=admin_headers)
    assert taken.status_code == 201, taken.text
    snapshots = {m["source"]: m["id"] for m in taken.json()}
    page = client.get("/api/v1/backups", headers=viewer).json()
    assert {b["snapshot_id"] for b in page["items"]} == set(snapshots.values())
    assert all(b["status"] == "succeeded" and b["stored_bytes"] > 0 for b in page["items"])

    status = client.get("/api/v1/dr/status", headers=viewer).json()
    assert status["rpo_breached"] is False

    drill = client.post("/api/v1/dr/drills", headers=admin_headers)
    assert drill.status_code == 201 and drill.json()["status"] == "passed", drill.text
    drills = client.get("/api/v1/dr/drills", headers=viewer).json()["items"]
    assert drills[0]["rto_seconds"] > 0 and drills[0]["rpo_objective_seconds"] == 3600

    body = {"id": snapshots["code-data"]}
    assert client.post("/api/v1/dr/restore", json=body, headers=viewer).status_code == 403
    deployer = {"Authorization": f"Bearer {make_token('deployer')}"}
    assert client.post("/api/v1/dr/restore", json=body, headers=deployer).status_code == 403
    restored = client.post("/api/v1/dr/restore", json=body, headers=admin_headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()[0]["target"].endswith(f".restored-{snapshots['code-data']}")
    missing = client.post("/api/v1/dr/restore", json={"date": "2020-01-01"}, headers=admin_headers)
    assert missing.status_code in (400, 404) and "nearest" in missing.json()["error"]["message"]

    audit = client.get("/api/v1/audit", headers=admin_headers).json()["items"]
    actions = [e["action"] for e in audit]
    assert {"dr.backup", "dr.drill", "dr.restore"} <= set(actions)
    assert any(e["action"] == "dr.restore" and e["outcome"] == "failed" for e in audit)

    assert client.app.state.dr_gauges.refresh()  # type: ignore[attr-defined]
    metrics = client.get("/metrics").text
    assert 'code_backup_last_success_timestamp_seconds{source="code-database"}' in metrics
    assert 'code_dr_rpo_breach{source="code-data"} 0.0' in metrics
    assert "code_dr_drill_rto_seconds" in metrics
