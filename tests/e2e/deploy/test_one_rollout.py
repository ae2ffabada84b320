"""One rollout per environment, for certain: requests sent at the same moment to a real
server, on SQLite and PostgreSQL; the database admits exactly one of them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, update

from code_engine.store.tables import DeploymentRow

from .harness import Engine, ServiceRepo

RACERS = 8


@pytest.fixture
def engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    running = Engine(tmp_path / "engine", database_url)
    running.root.mkdir()
    try:
        running.start(worker=False)  # nothing runs the deployments: they stay in flight
        yield running
    finally:
        running.stop()


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> ServiceRepo:
    repo = ServiceRepo(tmp_path / "repo", "shop", environments=("staging", "prod"))
    repo.create(engine)
    for version in ("v1", "v2"):
        repo.release(engine, version, "[{set_weight: 50}]")
    return repo


def race(engine: Engine, requests: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    """Send every request at the same moment, each from its own thread and connection."""
    start = threading.Barrier(len(requests))
    answers: list[httpx.Response | None] = [None] * len(requests)
    headers = {"Authorization": f"Bearer {engine.token}"}

    def send(index: int, path: str, body: dict[str, Any]) -> None:
        with httpx.Client(base_url=engine.url, headers=headers, timeout=60) as client:
            client.get("/healthz")  # connected before the start line
            start.wait()
            answers[index] = client.post(path, json=body)

    threads = [
        threading.Thread(target=send, args=(i, path, body))
        for i, (path, body) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def exactly_one_accepted(answers: list[httpx.Response], environment: str) -> int:
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] + [409] * (len(answers) - 1), [a.text for a in answers]
    winner = next(a.json() for a in answers if a.status_code == 201)
    for answer in answers:
        if answer.status_code == 409:
            message = answer.json()["error"]["message"]
            assert f"deployment {winner['id']} of {winner['version']}" in message, message
            assert f"in {environment}" in message
    return int(winner["id"])


def in_flight(database_url: str) -> dict[str, list[int]]:
    """Deployment ids in flight per environment, read from the database."""
    db = create_engine(database_url)
    try:
        with db.connect() as conn:
            rows = conn.execute(
                select(DeploymentRow.id, DeploymentRow.environment_id).where(
                    DeploymentRow.status.in_(("pending", "progressing", "paused"))
                )
            ).all()
    finally:
        db.dispose()
    found: dict[str, list[int]] = {}
    for row_id, environment_id in rows:
        found.setdefault(str(environment_id), []).append(row_id)
    return found


def succeed(database_url: str, deployment_id: int) -> None:
    """What the controller writes once a rollout is done."""
    db = create_engine(database_url)
    try:
        with db.begin() as conn:
            conn.execute(
                update(DeploymentRow)
                .where(DeploymentRow.id == deployment_id)
                .values(status="succeeded", finished_at=DeploymentRow.created_at)
            )
    finally:
        db.dispose()


def test_concurrent_deploys_promotes_and_rollbacks_admit_exactly_one(
    engine: Engine, shop: ServiceRepo, database_url: str
) -> None:
    deploy = {"service": "shop", "environment": "staging", "run": True}
    answers = race(engine, [("/api/v1/deployments", {**deploy, "version": "v1"})] * RACERS)
    first = exactly_one_accepted(answers, "staging")
    assert list(in_flight(database_url).values()) == [[first]]

    succeed(database_url, first)
    promote = {"service": "shop", "from": "staging", "to": "prod"}
    answers = race(engine, [("/api/v1/deployments/promote", promote)] * RACERS)
    promoted = exactly_one_accepted(answers, "prod")
    assert sorted(in_flight(database_url).values()) == [[promoted]]

    # deploys and rollbacks of staging, mixed, at the same moment
    rollback = {"service": "shop", "environment": "staging", "to": "v2"}
    mixed = [
        ("/api/v1/deployments", {**deploy, "version": "v2"}),
        ("/api/v1/deployments/rollback", rollback),
    ] * (RACERS // 2)
    answers = race(engine, mixed)
    staging = exactly_one_accepted(answers, "staging")
    assert sorted(in_flight(database_url).values()) == sorted([[promoted], [staging]])
