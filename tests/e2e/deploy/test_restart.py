"""`codectl restart` without a gap. The one instance of a serving release is replaced while
clients keep sending requests through the environment's router (the builtin one and
HAProxy): the replacement starts beside it on a port of its own, is routed once it answers,
and only then is the old instance stopped. No request fails."""

from __future__ import annotations

import json

import pytest
from tests.support.components import binary

from .harness import Engine, Load, ServiceRepo, wait_until

STEPS = "[{set_weight: 50}, {pause: {duration: 1s}}]"


def pids(engine: Engine, service: ServiceRepo) -> set[int]:
    path = engine.data_dir / "run" / service.name / service.environment / "instances.json"
    return {record["pid"] for record in json.loads(path.read_text())["instances"]}


@pytest.mark.parametrize("router", ["builtin", "haproxy"])
def test_a_restart_of_a_single_instance_loses_no_request(
    engine: Engine, service: ServiceRepo, router: str
) -> None:
    if router == "haproxy":
        binary("haproxy", "haproxy", "apt-get install haproxy", "/usr/sbin/haproxy")
    service.first(engine, STEPS, router=router)
    [before] = pids(engine, service)
    with Load(service.url) as load:
        wait_until(lambda: load.total > 20, 30, "requests before the restart")
        asked = engine.cli("restart", service.environment, "--service", service.name)
        assert asked.returncode == 0, asked.stderr

        def replaced() -> bool:
            now = pids(engine, service)
            return len(now) == 1 and before not in now

        wait_until(replaced, 90, "the instance replaced")
        served = load.total
        wait_until(lambda: load.total > served + 20, 30, "requests after it")
    assert load.failures == []
    assert set(load.statuses) == {200}, load.statuses
    assert engine.weights(service.name, service.environment) == {"v1": 100}
