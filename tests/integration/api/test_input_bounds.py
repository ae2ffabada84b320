"""Numbers, ranges and filters a client can get wrong: 404 or 422, never a 500 or a flood."""

from __future__ import annotations

import re
import time

import pytest
from starlette.testclient import TestClient

BIG = "99999999999999999999"  # 20 digits: beyond any 64-bit column


def _integer_params(operation: dict[str, object]) -> list[dict[str, object]]:
    params = operation.get("parameters", [])
    assert isinstance(params, list)
    return [p for p in params if "integer" in str(p.get("schema"))]


def test_out_of_range_numbers_are_never_a_server_error(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"name": "shop", "environments": [{"name": "dev"}]}
    assert client.post("/api/v1/services", json=body, headers=admin_headers).status_code == 201
    spec = client.get("/openapi.json").json()
    tried = 0
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            numbers = _integer_params(operation)
            if not numbers:
                continue
            in_path = {p["name"] for p in numbers if p["in"] == "path"}

            def fill(match: re.Match[str], in_path: set[str] = in_path) -> str:
                return BIG if match.group(1) in in_path else "shop"

            concrete = re.sub(r"\{([^}]+)\}", fill, path)
            query = {p["name"]: BIG for p in numbers if p["in"] == "query"}
            json_body = {} if method in ("post", "put", "patch") else None
            answer = client.request(
                method.upper(), concrete, params=query, json=json_body, headers=admin_headers
            )
            tried += 1
            assert answer.status_code in (400, 404, 409, 422), (method, concrete, answer.text)
    assert tried >= 9


def test_a_deployment_id_beyond_the_column_is_not_found(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answer = client.get(f"/api/v1/deployments/{BIG}", headers=admin_headers)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_date_range_is_bounded(client: TestClient, admin_headers: dict[str, str]) -> None:
    started = time.monotonic()
    answer = client.get(
        "/api/v1/metrics/dora",
        params={"from": "1970-01-01T00:00:00Z", "to": "9000-01-01T00:00:00Z"},
        headers=admin_headers,
    )
    assert answer.status_code == 422
    assert "at most 3660 days" in answer.text
    assert time.monotonic() - started < 5
    ok = client.get(
        "/api/v1/metrics/dora",
        params={"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        headers=admin_headers,
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unknown_and_ignored_filters_are_errors(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answer = client.get("/api/v1/deployments", params={"enviroment": "prod"}, headers=admin_headers)
    assert answer.status_code == 422
    details = answer.json()["error"]["details"]
    assert details[0]["field"] == "enviroment"
    assert "environment" in details[0]["message"]
    answer = client.get("/api/v1/deployments", params={"environment": "dev"}, headers=admin_headers)
    assert answer.status_code == 422
    assert "filter by service too" in answer.text
    assert client.get("/api/v1/deployments", headers=admin_headers).status_code == 200
    listed = client.get("/api/v1/services", params={"limit": 5}, headers=admin_headers)
    assert listed.status_code == 200
