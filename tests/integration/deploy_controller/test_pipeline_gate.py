"""Pipeline evidence over the API: runs recorded and listed, releases qualified by a passing
run (even one recorded after them), and `protection.requires_pipeline` refusing the rest."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from .conftest import Repo

H = dict[str, str]
SPEC = """\
service: shop
repo: .
environments:
  - name: staging
    target: {{kind: local, command: "serve --port {{port}}"}}{staging}
  - name: prod
    target: {{kind: local, command: "serve --port {{port}}"}}{prod}
"""
COVERAGE = {"name": "coverage", "threshold": "> 80", "measured": "71.0", "verdict": "failed"}


def spec(staging: str = "", prod: str = "") -> str:
    return SPEC.format(staging=staging, prod=prod)


def report(sha: str, status: str = "passed", dirty: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "service": "shop",
        "commit": sha,
        "dirty": dirty,
        "started_at": "2026-12-01T10:00:00Z",
        "finished_at": "2026-12-01T10:02:30+00:00",
        "status": status,
        "steps": [
            {
                "name": "ruff",
                "stage": "lint",
                "status": "passed",
                "cached": True,
                "duration_s": 0.2,
                "reason": None,
            },
            {
                "name": "pytest",
                "stage": "test",
                "status": status,
                "cached": False,
                "duration_s": 80.5,
            },
            {
                "name": "image",
                "stage": "build",
                "status": "skipped",
                "cached": False,
                "duration_s": 0.0,
                "reason": "skipped: no engine",
            },
        ],
        "gates": [
            {"name": "tests", "threshold": "all pass", "measured": "120/120", "verdict": "passed"},
            {
                **COVERAGE,
                **({"measured": "93.5", "verdict": "passed"} if status == "passed" else {}),
            },
        ],
        "artifacts": [{"path": "dist/shop-1.0.0.whl", "sha256": "ab" * 32}],
        **extra,
    }


def register(client: TestClient, headers: H, repo: Repo, text: str) -> str:
    sha = repo.commit("feat: first", text)
    body = {"name": "shop", "repo": str(repo.path)}
    assert client.post("/api/v1/services", json=body, headers=headers).status_code == 201
    return sha


def deploy(client: TestClient, headers: H, environment: str, version: str) -> Any:
    body = {"service": "shop", "environment": environment, "version": version, "run": True}
    return client.post("/api/v1/deployments", json=body, headers=headers)


def release(client: TestClient, headers: H, version: str, sha: str) -> dict[str, Any]:
    body = {"service": "shop", "version": version, "sha": sha}
    created = client.post("/api/v1/releases", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def listed_release(client: TestClient, headers: H, version: str) -> dict[str, Any]:
    page = client.get("/api/v1/releases", params={"service": "shop"}, headers=headers).json()
    return next(item for item in page["items"] if item["version"] == version)


def test_runs_are_recorded_and_listed(
    client: TestClient, admin_headers: H, make_token: Any, repo: Repo
) -> None:
    sha = register(client, admin_headers, repo, spec())
    ci = {"Authorization": f"Bearer {make_token('developer', name='ci')}"}
    posted = client.post("/api/v1/pipeline/runs", json=report(sha, "failed"), headers=ci)
    assert posted.status_code == 201, posted.text
    run = posted.json()
    assert run["recorded_by"] == "ci" and run["service"] == "shop" and run["commit"] == sha
    assert run["duration_s"] == 150.0 and run["qualifies"] is False
    assert run["steps"][0]["cached"] is True and run["artifacts"][0]["sha256"] == "ab" * 32
    assert run["releases"] == []
    viewer = {"Authorization": f"Bearer {make_token('viewer')}"}
    listed = client.get(
        "/api/v1/pipeline/runs", params={"service": "shop", "commit": sha[:12]}, headers=viewer
    )
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [run["id"]]
    other = client.get("/api/v1/pipeline/runs", params={"commit": "0" * 40}, headers=viewer)
    assert other.json()["items"] == []
    assert client.post("/api/v1/pipeline/runs", json=report(sha), headers=viewer).status_code == 403
    scoped = {"Authorization": f"Bearer {make_token('developer:prod')}"}
    assert client.post("/api/v1/pipeline/runs", json=report(sha), headers=scoped).status_code == 403


def test_bad_run_reports_are_refused(client: TestClient, admin_headers: H, repo: Repo) -> None:
    sha = register(client, admin_headers, repo, spec())
    cases = {
        "commit": report("HEAD"),
        "steps.0.status": report(
            sha, steps=[{"name": "x", "stage": "lint", "status": "ok", "duration_s": 1}]
        ),
        "artifacts.0.sha256": report(sha, artifacts=[{"path": "a", "sha256": "nope"}]),
        "started_at": report(sha, started_at="yesterday"),
    }
    for field, body in cases.items():
        answer = client.post("/api/v1/pipeline/runs", json=body, headers=admin_headers)
        assert answer.status_code == 422, field
        assert field in {
            d["field"].removeprefix("body.") for d in answer.json()["error"]["details"]
        }
    backwards = report(sha, finished_at="2026-12-01T09:00:00Z")
    answer = client.post("/api/v1/pipeline/runs", json=backwards, headers=admin_headers)
    assert answer.status_code == 422 and "finished_at: before started_at" in answer.text
    unknown = client.post(
        "/api/v1/pipeline/runs", json={**report(sha), "service": "nope"}, headers=admin_headers
    )
    assert unknown.status_code == 404
    bad = client.get("/api/v1/pipeline/runs", params={"commit": "xyz"}, headers=admin_headers)
    assert bad.status_code == 422


def test_prod_refuses_an_unqualified_release_until_a_passing_run_arrives(
    client: TestClient, admin_headers: H, repo: Repo
) -> None:
    sha = register(client, admin_headers, repo, spec())
    created = release(client, admin_headers, "1.0.0", sha)
    assert created["qualified"] is False
    assert created["qualification"] == f"no passing pipeline run for commit {sha}"
    refused = deploy(client, admin_headers, "prod", "1.0.0")
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert message == (
        "'prod' requires a passing pipeline (protection.requires_pipeline): release 1.0.0 is "
        f"not qualified: no passing pipeline run for commit {sha}"
    )
    # staging requires none by default
    assert deploy(client, admin_headers, "staging", "1.0.0").status_code == 201

    client.post("/api/v1/pipeline/runs", json=report(sha, "failed"), headers=admin_headers)
    failed = deploy(client, admin_headers, "prod", "1.0.0")
    assert failed.status_code == 403
    assert (
        "failed gates: coverage (measured 71.0, threshold > 80)"
        in failed.json()["error"]["message"]
    )
    assert (
        "failed gates: coverage" in listed_release(client, admin_headers, "1.0.0")["qualification"]
    )

    dirty = client.post(
        "/api/v1/pipeline/runs", json=report(sha, dirty=True), headers=admin_headers
    )
    assert dirty.json()["qualifies"] is False
    assert listed_release(client, admin_headers, "1.0.0")["qualified"] is False

    passed = client.post("/api/v1/pipeline/runs", json=report(sha), headers=admin_headers)
    assert passed.json()["qualifies"] is True and passed.json()["releases"] == ["1.0.0"]
    now = listed_release(client, admin_headers, "1.0.0")
    assert now["qualified"] is True
    assert now["qualification"] == f"pipeline run {passed.json()['id']} passed"
    accepted = deploy(client, admin_headers, "prod", "1.0.0")
    assert accepted.status_code == 201, accepted.text


def test_a_release_made_after_its_run_is_qualified_at_creation(
    client: TestClient, admin_headers: H, repo: Repo
) -> None:
    sha = register(client, admin_headers, repo, spec())
    client.post("/api/v1/pipeline/runs", json=report(sha), headers=admin_headers)
    assert release(client, admin_headers, "1.0.0", sha)["qualified"] is True
    assert deploy(client, admin_headers, "prod", "1.0.0").status_code == 201


def test_requires_pipeline_set_in_code_yaml(
    client: TestClient, admin_headers: H, repo: Repo
) -> None:
    text = spec(
        staging="\n    protection: {requires_pipeline: true}",
        prod="\n    protection: {requires_pipeline: false}",
    )
    sha = register(client, admin_headers, repo, text)
    release(client, admin_headers, "1.0.0", sha)
    refused = deploy(client, admin_headers, "staging", "1.0.0")
    assert refused.status_code == 403 and "'staging' requires a passing pipeline" in refused.text
    assert deploy(client, admin_headers, "prod", "1.0.0").status_code == 201


def test_a_release_at_an_abbreviated_sha_matches_the_full_commit(
    client: TestClient, admin_headers: H
) -> None:
    # a service whose repository CODE does not read: its releases keep the sha as given
    body = {"name": "shop", "repo": "https://git.example.test/shop.git"}
    assert client.post("/api/v1/services", json=body, headers=admin_headers).status_code == 201
    full = "abcdef1" + "0" * 33
    assert release(client, admin_headers, "2.0.0", "abcdef1")["qualified"] is False
    assert release(client, admin_headers, "2.0.1", full)["qualified"] is False
    posted = client.post("/api/v1/pipeline/runs", json=report(full), headers=admin_headers)
    assert posted.json()["releases"] == ["2.0.0", "2.0.1"]
    assert listed_release(client, admin_headers, "2.0.0")["qualified"] is True
    assert listed_release(client, admin_headers, "2.0.1")["qualified"] is True
