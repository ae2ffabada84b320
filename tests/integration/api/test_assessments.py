"""Assessments stored per service and read back as a trend."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from starlette.testclient import TestClient

from code_engine.assess import assess_repository, report_to_dict


def _report(tmp_path: Path) -> dict[str, object]:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    clock = lambda: datetime(2026, 11, 2, tzinfo=timezone.utc)  # noqa: E731
    return report_to_dict(assess_repository(repo, clock=clock))


def test_record_and_trend(client: TestClient, admin_headers, tmp_path: Path) -> None:
    client.post("/api/v1/services", json={"name": "api"}, headers=admin_headers)
    report = _report(tmp_path)
    first = client.post("/api/v1/services/api/assessments", json=report, headers=admin_headers)
    assert first.status_code == 201, first.text
    assert first.json()["level"] == 0
    assert "scm.codeowners" in first.json()["failed"]
    client.post("/api/v1/services/api/assessments", json=report, headers=admin_headers)
    trend = client.get("/api/v1/services/api/assessments", headers=admin_headers).json()
    assert [p["id"] for p in trend["items"]] == [first.json()["id"], first.json()["id"] + 1]
    assert set(trend["items"][0]["categories"]) >= {"source-control", "disaster-recovery"}


def test_a_report_that_breaks_the_schema_is_refused(client: TestClient, admin_headers) -> None:
    client.post("/api/v1/services", json={"name": "api"}, headers=admin_headers)
    response = client.post(
        "/api/v1/services/api/assessments",
        json={"schema_version": "1", "level": 9},
        headers=admin_headers,
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert "level" in fields
    assert (
        client.get("/api/v1/services/api/assessments", headers=admin_headers).json()["items"] == []
    )
