"""A service's repository: set by an admin, changed only by an admin (audited), never by a
release; limited by CODE_ALLOWED_REPO_URLS."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from code_engine.settings import Settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(data_dir: Path, database_url: str, tmp_path: Path) -> Settings:
    allowed = f"{tmp_path / 'git'}, https://git.example.com/acme"
    return Settings(
        env="dev", data_dir=data_dir, database_url=database_url, allowed_repo_urls=allowed
    )


def _register(client: TestClient, headers: dict[str, str], repo: str) -> int:
    body = {"name": "shop", "repo": repo, "environments": [{"name": "dev"}]}
    return client.post("/api/v1/services", json=body, headers=headers).status_code


def test_an_admin_registers_only_allowed_repositories(
    client: TestClient, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    assert _register(client, admin_headers, str(tmp_path / "elsewhere")) == 422
    assert _register(client, admin_headers, "https://git.example.com/acme-evil/x") == 422
    assert _register(client, admin_headers, "ext::sh -c id") == 422
    assert _register(client, admin_headers, str(tmp_path / "git" / "shop")) == 201


def test_only_an_admin_changes_the_repository_and_it_is_audited(
    client: TestClient, admin_headers: dict[str, str], make_token: object, tmp_path: Path
) -> None:
    assert _register(client, admin_headers, str(tmp_path / "git" / "shop")) == 201
    developer = {"Authorization": f"Bearer {make_token('developer', 'deployer:dev')}"}  # type: ignore[operator]
    moved = {"repo": "https://git.example.com/acme/shop.git"}
    assert client.patch("/api/v1/services/shop", json=moved, headers=developer).status_code == 403
    refused = {"repo": "https://evil.example/shop.git"}
    answer = client.patch("/api/v1/services/shop", json=refused, headers=admin_headers)
    assert answer.status_code == 422
    assert "CODE_ALLOWED_REPO_URLS" in answer.text
    answer = client.patch("/api/v1/services/shop", json=moved, headers=admin_headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["repo"] == moved["repo"]
    trail = client.get(
        "/api/v1/audit", params={"action": "service.repo.change"}, headers=admin_headers
    ).json()["items"]
    assert [item["detail"] for item in trail] == [
        {"from": str(tmp_path / "git" / "shop"), "to": moved["repo"]}
    ]
    extra = {"repo": moved["repo"], "name": "other"}
    answer = client.patch("/api/v1/services/shop", json=extra, headers=admin_headers)
    assert answer.status_code == 422


def test_a_release_cannot_name_a_repository(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"name": "shop", "environments": [{"name": "dev"}]}
    assert client.post("/api/v1/services", json=body, headers=admin_headers).status_code == 201
    release = {"service": "shop", "version": "1.0", "repo": "/anything"}
    answer = client.post("/api/v1/releases", json=release, headers=admin_headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "body.repo"
    shown = client.get("/api/v1/services/shop", headers=admin_headers).json()
    assert shown["repo"] == ""


def test_a_repository_outside_a_narrowed_list_is_refused_at_release(
    client: TestClient, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    # registered when the list allowed it: the row is edited here as an older server left it
    assert _register(client, admin_headers, str(tmp_path / "git" / "shop")) == 201
    from code_engine.api.app import runtime_of
    from code_engine.catalog.store import require_service

    runtime = runtime_of(client.app)  # type: ignore[arg-type]
    with runtime.db.session() as session:
        require_service(session, "shop").repo = str(tmp_path / "old")
    release = {"service": "shop", "version": "1.0"}
    answer = client.post("/api/v1/releases", json=release, headers=admin_headers)
    assert answer.status_code == 422
    assert "CODE_ALLOWED_REPO_URLS" in answer.text


def test_two_environments_of_one_name_are_refused(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"name": "shop", "environments": [{"name": "dev"}, {"name": "dev"}]}
    answer = client.post("/api/v1/services", json=body, headers=admin_headers)
    assert answer.status_code == 422
    assert "listed twice" in answer.text


def test_a_release_whose_code_yaml_is_an_alias_bomb_is_refused_at_once(
    client: TestClient, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    import subprocess
    import time

    repo = tmp_path / "git" / "bomb"
    repo.mkdir(parents=True)
    bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    (repo / "code.yaml").write_text(bomb)
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.test"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bomb"]):
        subprocess.run(["git", *identity, "-C", str(repo), *args], check=True)  # noqa: S603,S607
    assert _register(client, admin_headers, str(repo)) == 201
    started = time.monotonic()
    answer = client.post(
        "/api/v1/releases", json={"service": "shop", "version": "1.0"}, headers=admin_headers
    )
    assert answer.status_code == 422
    assert "aliases expand to more than 100000 nodes" in answer.text
    assert time.monotonic() - started < 5
