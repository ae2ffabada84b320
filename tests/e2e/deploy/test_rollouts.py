"""Rollouts on real processes over real HTTP: a healthy canary reaches 100% without losing a
request, bad canaries (5xx, latency) are rolled back, an inconclusive analysis pauses."""

from __future__ import annotations

import pytest
from tests.support.components import binary

from .harness import Engine, Load, ServiceRepo, wait_until

CANARY = "[{set_weight: 50}, {analysis: {interval: 1s, count: 3, min_requests: 10}}]"


def test_healthy_canary_reaches_100_percent_without_losing_a_request(
    engine: Engine, service: ServiceRepo
) -> None:
    service.first(engine, CANARY)
    service.release(engine, "v2", CANARY)
    with Load(service.url) as load:
        wait_until(lambda: load.total > 20, 30, "traffic on v1")
        deployment_id = service.deploy(engine, "v2")
        done = engine.wait(deployment_id)
        switched = load.total
        wait_until(lambda: load.total > switched + 20, 30, "requests after the switch")
    assert done["status"] == "succeeded", done["message"]
    assert load.lost() == 0, (load.statuses, load.failures[:5])
    assert load.versions["v1"] > 0 and load.versions["v2"] > 0
    verdicts = [m["verdict"] for m in done["measurements"]]
    assert verdicts == ["pass", "pass", "pass"]
    assert len(done["commits"]) == 1  # the range v1..v2 of the service repository
    assert engine.weights(service.name, service.environment) == {"v2": 100}
    assert engine.instances(service.name, service.environment) == {"v2": ["ready"]}
    assert service.serving() == "v2"


def test_five_percent_errors_are_rolled_back_and_stable_keeps_serving(
    engine: Engine, service: ServiceRepo
) -> None:
    service.first(engine, CANARY)
    service.release(engine, "v3", CANARY, env={"HELLO_ERROR_RATE": "0.05"})
    with Load(service.url) as load:
        done = engine.wait(service.deploy(engine, "v3"))
    assert done["status"] == "rolled_back"
    assert done["progress"]["reason"] == "analysis failed"
    [failing] = done["state"]["failing_measurements"]
    assert failing["verdict"] == "fail" and "error rate" in failing["reason"]
    assert any(m["verdict"] == "fail" for m in done["measurements"])
    assert load.statuses[500] > 0  # the canary really failed requests
    wait_until(lambda: "v3" not in engine.instances(service.name, "prod"), 30, "v3 stopped")
    assert engine.weights(service.name, "prod") == {"v1": 100}
    assert service.serving() == "v1"


def test_latency_above_the_slo_is_rolled_back(engine: Engine, service: ServiceRepo) -> None:
    service.first(engine, CANARY)
    service.release(engine, "v4", CANARY, env={"HELLO_LATENCY_MS": "300"})
    with Load(service.url, clients=6):
        done = engine.wait(service.deploy(engine, "v4"))
    assert done["status"] == "rolled_back"
    assert "p95" in done["message"], done["message"]
    wait_until(lambda: "v4" not in engine.instances(service.name, "prod"), 30, "v4 stopped")
    assert service.serving() == "v1"


def test_inconclusive_analysis_pauses_until_a_person_decides(
    engine: Engine, service: ServiceRepo
) -> None:
    service.first(engine, CANARY)
    lonely = "[{set_weight: 50}, {analysis: {interval: 1s, count: 2, min_requests: 1000}}]"
    service.release(engine, "v2", lonely)
    deployment_id = service.deploy(engine, "v2")
    paused = engine.wait(deployment_id, ("paused",) + ("succeeded", "failed", "rolled_back"))
    assert paused["status"] == "paused"
    assert paused["progress"]["paused"] == "inconclusive"
    assert paused["measurements"][0]["verdict"] == "inconclusive"
    assert engine.weights(service.name, "prod") == {"v1": 50, "v2": 50}  # held where it was
    engine.api("POST", f"/api/v1/deployments/{deployment_id}/abort")
    aborted = engine.wait(deployment_id)
    assert aborted["status"] == "rolled_back"
    assert engine.weights(service.name, "prod") == {"v1": 100}
    actions = [e["action"] for e in engine.api("GET", "/api/v1/audit", limit=200)["items"]]
    assert "deployment.abort" in actions and "deployment.paused" in actions


def test_a_canary_that_cannot_start_fails_and_says_why(
    engine: Engine, service: ServiceRepo
) -> None:
    service.first(engine, CANARY)
    service.release(engine, "v2", CANARY, module="no_such_server")
    done = engine.wait(service.deploy(engine, "v2"))
    assert done["status"] == "failed"  # it never had traffic: nothing to roll back from
    assert "No module named no_such_server" in done["state"]["errors"]["v2"]
    assert engine.weights(service.name, "prod") == {"v1": 100}
    assert service.serving() == "v1"


@pytest.mark.slow
def test_a_canary_behind_haproxy(engine: Engine, service: ServiceRepo) -> None:
    binary("haproxy", "haproxy", "apt-get install haproxy", "/usr/sbin/haproxy")
    service.first(engine, CANARY, router="haproxy")
    service.release(engine, "v2", CANARY, router="haproxy")
    with Load(service.url) as load:
        wait_until(lambda: load.total > 20, 30, "traffic on v1")
        done = engine.wait(service.deploy(engine, "v2"))
    assert done["status"] == "succeeded", done["message"]
    assert [m["verdict"] for m in done["measurements"]] == ["pass", "pass", "pass"]
    # HAProxy reloads its configuration when the canary's servers are added; a reload without
    # socket handover (master-worker with `expose-fd listeners`) can drop a connection that
    # was being accepted at that instant. Allow that rare loss here; the builtin router's
    # rollout under load must lose none (see the healthy canary test above).
    assert load.lost() <= max(1, len(load.statuses) // 1000), (load.statuses, load.failures[:5])
    assert engine.weights(service.name, "prod") == {"v2": 100}
    assert service.serving() == "v2"
