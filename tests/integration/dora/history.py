"""A random but reproducible event history with duplicates and superseded versions."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from code_engine.dora.events import (
    CommitEvent,
    DeploymentEvent,
    DeploymentStatus,
    Event,
    IncidentEvent,
)

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
STATUSES = [DeploymentStatus.SUCCEEDED] * 7 + [
    DeploymentStatus.FAILED,
    DeploymentStatus.FAILED,
    DeploymentStatus.ROLLED_BACK,
]


def _at(rng: random.Random, days: float) -> datetime:
    return T0 + timedelta(seconds=round(rng.uniform(0, days * 86_400), 3))


def _commits(rng: random.Random, service: str, count: int) -> list[CommitEvent]:
    commits = []
    for n in range(count):
        authored = _at(rng, 70)
        first = authored - timedelta(hours=rng.uniform(1, 200)) if rng.random() < 0.2 else None
        commits.append(
            CommitEvent(
                sha=f"{'a' if service == 'api' else 'b'}{n:039x}",
                service=service,
                authored_at=authored,
                committed_at=authored + timedelta(minutes=5),
                message=f"feat: change {n}",
                first_commit_at=first,
            )
        )
    return commits


def _deployments(
    rng: random.Random, service: str, commits: list[CommitEvent], count: int
) -> list[DeploymentEvent]:
    deployments = []
    for n in range(count):
        finished = _at(rng, 75)
        ready = [c.sha for c in commits if c.authored_at < finished]
        listed = rng.sample(ready, min(len(ready), rng.randint(0, 6)))
        if rng.random() < 0.1:
            listed.append("f" * 40)  # a commit CODE never imported
        deployments.append(
            DeploymentEvent(
                external_id=f"{service}-deploy-{n}",
                service=service,
                environment="staging" if rng.random() < 0.15 else "prod",
                status=rng.choice(STATUSES),
                started_at=finished - timedelta(minutes=rng.randint(0, 30)),
                finished_at=finished,
                commits=tuple(listed),
                trigger="ci",
                source="generic",
            )
        )
    return deployments


def _incidents(
    rng: random.Random, service: str, deployments: list[DeploymentEvent], count: int
) -> list[IncidentEvent]:
    incidents = []
    for n in range(count):
        opened = _at(rng, 72)
        resolved = None if rng.random() < 0.2 else opened + timedelta(hours=rng.uniform(0, 30))
        named = None
        if rng.random() < 0.3:
            named = rng.choice([d.external_id for d in deployments] + ["ghost"])
        incidents.append(
            IncidentEvent(
                external_id=f"{service}-incident-{n}",
                service=service,
                environment="staging" if rng.random() < 0.2 else "prod",
                opened_at=opened,
                resolved_at=resolved,
                severity="critical",
                deployment_id=named,
                source="generic",
                title=f"incident {n}",
            )
        )
    return incidents


def _older_versions(rng: random.Random, events: list[Event]) -> list[Event]:
    """Versions that `dedupe.latest` must lose to the final ones."""
    older: list[Event] = []
    for event in events:
        if rng.random() > 0.2:
            continue
        if isinstance(event, DeploymentEvent) and event.status is not DeploymentStatus.SUCCEEDED:
            # a success recorded first, then the rollback of the same deployment
            older.append(replace(event, status=DeploymentStatus.SUCCEEDED))
        elif isinstance(event, DeploymentEvent):
            earlier = event.finished_at - timedelta(minutes=rng.randint(1, 60))
            started = min(earlier, event.started_at)
            older.append(replace(event, started_at=started, finished_at=earlier, commits=()))
        elif isinstance(event, IncidentEvent) and event.resolved_at is not None:
            older.append(replace(event, resolved_at=None))
        elif isinstance(event, CommitEvent) and event.first_commit_at is not None:
            older.append(replace(event, first_commit_at=None))
    return older


def history(seed: int) -> tuple[list[Event], list[Event]]:
    """(final events, every version to send: finals, older versions and duplicates)."""
    rng = random.Random(seed)
    final: list[Event] = []
    for service, size in (("api", 1.0), ("web", 0.3)):
        commits = _commits(rng, service, int(160 * size))
        deployments = _deployments(rng, service, commits, int(90 * size))
        final += commits + deployments + _incidents(rng, service, deployments, int(30 * size))
    sent = final + _older_versions(rng, final) + rng.sample(final, len(final) // 5)
    rng.shuffle(sent)
    return final, sent
