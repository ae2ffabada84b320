"""SIGKILL of the controller process at each kind of step, then a restart: the rollout
resumes (or rolls back) to a consistent end, and traffic never goes to a stopped process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .harness import Engine, Load, ServiceRepo, wait_until

STEPS = (
    "[{set_weight: 30}, {pause: {duration: 2s}}, {set_weight: 60},"
    " {analysis: {interval: 1s, count: 3, min_requests: 5}}]"
)
Moment = Callable[[dict[str, Any]], bool]


def at_step(kind: str, measurements: int = 0) -> Moment:
    def moment(deployment: dict[str, Any]) -> bool:
        progress = deployment["progress"] or {}
        step = progress.get("current_step") or ""
        return (
            progress.get("phase") == "stepping"
            and step.startswith(kind)
            and progress.get("measurements", 0) >= measurements
        )

    return moment


def in_phase(phase: str) -> Moment:
    return lambda deployment: (deployment["progress"] or {}).get("phase") == phase


@pytest.mark.parametrize(
    ("moment", "bad", "outcome"),
    [
        pytest.param(at_step("set_weight"), False, "succeeded", id="set_weight"),
        pytest.param(at_step("pause"), False, "succeeded", id="pause"),
        pytest.param(at_step("analysis", 1), False, "succeeded", id="analysis"),
        pytest.param(in_phase("finalizing"), False, "succeeded", id="draining"),
        pytest.param(at_step("analysis"), True, "rolled_back", id="analysis-of-a-bad-canary"),
    ],
)
def test_a_killed_controller_resumes_to_a_consistent_end(
    engine: Engine, service: ServiceRepo, moment: Moment, bad: bool, outcome: str
) -> None:
    service.first(engine, STEPS)
    env = {"HELLO_ERROR_RATE": "0.2"} if bad else {}
    service.release(engine, "v2", STEPS, env=env)
    with Load(service.url) as load:
        deployment_id = service.deploy(engine, "v2")
        wait_until(lambda: moment(engine.deployment(deployment_id)), 60, "the moment", 0.01)
        engine.kill_worker()
        killed = engine.deployment(deployment_id)
        served = load.total  # the router and the instances serve on without a controller
        wait_until(lambda: load.total > served + 20, 30, "requests without a controller")
        assert engine.deployment(deployment_id)["state"] == killed["state"]
        engine.start_worker()
        done = engine.wait(deployment_id)
        served = load.total
        wait_until(lambda: load.total > served + 10, 30, "requests after the end")
    assert done["status"] == outcome, done["message"]
    survivor = "v1" if bad else "v2"
    wait_until(
        lambda: list(engine.instances(service.name, "prod")) == [survivor], 30, "one version left"
    )
    assert engine.weights(service.name, "prod") == {survivor: 100}
    assert service.serving() == survivor
    if not bad:
        assert load.lost() == 0, (load.statuses, load.failures[:5])
