"""Secrets reach real instances through the supervisor: resolved at each start from a real
OpenBao, passed in the instance's environment only, masked in its logs, picked up again by a
restart, and a failure starts nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.openbao import OpenBao

from code_engine.deploy.local import InstanceStartError, LaunchSpec, Supervisor, tail_logs
from code_engine.secrets.resolver import SecretResolver
from code_engine.secrets.vault import VaultBackend, VaultConfig

APP_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "secrets"
COMMAND = "{python} -m uvicorn envapp:app --host {host} --port {port} --log-level warning"
FIRST = "instance-canary-1b7e42-first"  # pragma: allowlist secret
SECOND = "instance-canary-9d03c5-second"  # pragma: allowlist secret
REF = "vault://secret/instances/db#password"


def spec(version: str, instances: int = 1, reference: str = REF) -> LaunchSpec:
    return LaunchSpec(
        version=version,
        command=COMMAND,
        cwd=APP_DIR,
        instances=instances,
        env={"HELLO_VERSION": "{version}"},
        secrets={"DB_PASSWORD": reference},
        ready_timeout=60.0,
        stop_grace=5.0,
    )


@pytest.fixture
def supervisor(bao: OpenBao, tmp_path: Path) -> Iterator[Supervisor]:
    bao.put("instances/db", password=FIRST)
    backend = VaultBackend(VaultConfig(bao.address, token=bao.token()))
    resolver = SecretResolver({"vault": backend}, remember=lambda _values: None)
    running = Supervisor("shop", "prod", tmp_path, secrets=resolver.resolve)
    try:
        yield running
    finally:
        running.stop_all(grace=5)
        running.close()


def _values(supervisor: Supervisor, version: str) -> list[str | None]:
    found = []
    for info in supervisor.instances(version):
        answer = httpx.get(f"http://{info.address}/env/DB_PASSWORD", timeout=10)
        found.append(answer.json()["value"])
    return found


def test_secret_reaches_the_instance_and_never_its_state_or_logs(
    bao: OpenBao, supervisor: Supervisor
) -> None:
    supervisor.start(spec("v1", instances=2))
    assert _values(supervisor, "v1") == [FIRST, FIRST]
    raw = "".join(p.read_text() for p in supervisor.log_dir.glob("*.log"))
    assert FIRST in raw  # the service printed its environment: CODE masks it when reading
    shown = [line.text for line in tail_logs(supervisor.log_dir, 100)]
    assert any("[redacted]" in text for text in shown)
    assert not any(FIRST in text for text in shown)
    state = supervisor.state_path.read_text()
    assert FIRST not in state and REF in json.dumps(json.loads(state))

    bao.put("instances/db", password=SECOND)
    assert _values(supervisor, "v1") == [FIRST, FIRST]  # nothing changes until a restart
    supervisor.restart("v1")
    assert _values(supervisor, "v1") == [SECOND, SECOND]
    shown = [line.text for line in tail_logs(supervisor.log_dir, 200)]
    assert not any(FIRST in text or SECOND in text for text in shown)


def test_a_secret_that_cannot_be_resolved_starts_nothing(supervisor: Supervisor) -> None:
    missing = "vault://secret/instances/db#nokey"
    with pytest.raises(InstanceStartError) as caught:
        supervisor.start(spec("v2", reference=missing))
    assert f"secret {missing}: the secret has no key 'nokey'" in str(caught.value)
    assert supervisor.instances("v2") == []


def test_a_restart_whose_secret_fails_leaves_the_instances_running(
    bao: OpenBao, supervisor: Supervisor
) -> None:
    supervisor.start(spec("v3"))
    [before] = supervisor.instances("v3")
    bao.api("DELETE", "secret/metadata/instances/db")
    try:
        with pytest.raises(InstanceStartError, match="no such secret"):
            supervisor.restart("v3")
        [after] = supervisor.instances("v3")
        assert (after.pid, after.state) == (before.pid, before.state)
        assert _values(supervisor, "v3") == [FIRST]
    finally:
        bao.put("instances/db", password=FIRST)
