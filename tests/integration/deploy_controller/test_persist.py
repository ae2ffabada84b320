"""One controller tick's writes: rollout state, events, measurements, audit, commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from starlette.testclient import TestClient

from code_engine.audit.trail import list_events
from code_engine.clock import Clock
from code_engine.deploy.controller.persist import load, persist
from code_engine.deploy.rollout import (
    Decision,
    Measurement,
    PromoteCanaryToStable,
    RecordMeasurement,
    Status,
    Transition,
    Verdict,
)
from code_engine.deploy.store import commits_of, get_deployment
from code_engine.dora.deliveries import unpack_seconds
from code_engine.store.engine import Database

from .conftest import Repo


def test_a_decision_is_written_in_one_go(
    client: TestClient, admin_headers: dict[str, str], shop: Repo, database: Database, clock: Clock
) -> None:
    client.post(
        "/api/v1/releases", json={"service": "shop", "version": "1.0"}, headers=admin_headers
    )
    body = {"service": "shop", "environment": "staging", "run": True}
    deployment_id = client.post("/api/v1/deployments", json=body, headers=admin_headers).json()[
        "id"
    ]
    client.post(f"/api/v1/deployments/{deployment_id}/pause", headers=admin_headers)
    with database.session() as session:
        loaded = load(session, deployment_id)
    assert [command.value for _, command in loaded.commands] == ["pause"]
    assert loaded.launches["1.0"].command == "serve --port {port}"
    now = clock()
    m = Measurement(now, now + timedelta(seconds=1), 50, 0, 0.0, 12.0, Verdict.PASS, "ok")
    record = RecordMeasurement(str(deployment_id), 1, now, 0, m)
    done = replace(loaded.rollout, status=Status.SUCCEEDED, started_at=now, finished_at=now)
    decision = Decision(
        done,
        (
            record,
            Transition(str(deployment_id), Status.SUCCEEDED, "promoted", "1.0 serves 100%"),
            PromoteCanaryToStable(str(deployment_id), "1.0"),
        ),
    )
    for _ in range(2):  # a re-run after a crash writes the same measurement once
        with database.session() as session:
            ids = [command_id for command_id, _ in loaded.commands]
            persist(session, loaded, decision, ids, now, {"url": "http://127.0.0.1:1"})
    shown = client.get(f"/api/v1/deployments/{deployment_id}", headers=admin_headers).json()
    assert shown["status"] == "succeeded" and shown["finished_at"] is not None
    assert [m["verdict"] for m in shown["measurements"]] == ["pass"]
    assert shown["progress"]["url"] == "http://127.0.0.1:1"
    assert {"promoted": "1.0", "at": now.isoformat()} in shown["events"]
    with database.session() as session:
        assert load(session, deployment_id).commands == ()
        actions = [event.action for event in list_events(session, 50, None).items]
        row = get_deployment(session, deployment_id)
        delivered = commits_of(session, deployment_id)
    assert "deployment.succeeded" in actions
    # the success stores what it delivered first, for lead time (none imported: unknown)
    assert delivered and row.lead_times is not None
    assert len(unpack_seconds(row.lead_times)) + row.lead_unknown == len(delivered)
