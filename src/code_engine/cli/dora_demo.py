"""A demo service's history: commits, deployments per environment, incidents, one canary.

`codectl dora seed-demo` writes it through the same ingestion as the API, so the
dashboard and `codectl dora` have something true to show on a fresh install. The data is
reproducible from its seed and ends at the given time.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from code_engine.assess import assess_repository, history, report_to_dict
from code_engine.catalog.store import EnvironmentDraft, create_service, find_service
from code_engine.catalog.store import require_environment as find_environment
from code_engine.dora.deployments import DeploymentRecord
from code_engine.dora.events import (
    CommitEvent,
    DeploymentEvent,
    DeploymentStatus,
    Event,
    IncidentEvent,
)
from code_engine.dora.ingest import ingest
from code_engine.dora.recording import record_deployment
from code_engine.store.engine import Database

KINDS = ("feat", "fix", "refactor", "docs", "perf", "test")
CANARY_STEPS = [
    {"set_weight": 10},
    {"pause": 300.0},
    {"set_weight": 25},
    {"analysis": {"interval": 60.0, "count": 5}},
    {"set_weight": 50},
    {"set_weight": 100},
]


def _commits(rng: random.Random, service: str, start: datetime, days: int) -> list[CommitEvent]:
    commits: list[CommitEvent] = []
    for day in range(days):
        for _ in range(rng.randint(2, 9)):
            authored = start + timedelta(days=day, hours=rng.uniform(8, 18))
            merge = rng.random() < 0.25
            commits.append(
                CommitEvent(
                    sha=f"{rng.getrandbits(160):040x}",
                    service=service,
                    authored_at=authored,
                    committed_at=authored + timedelta(minutes=rng.randint(1, 90)),
                    message=f"{rng.choice(KINDS)}: change {len(commits) + 1}",
                    first_commit_at=authored - timedelta(hours=rng.uniform(2, 60))
                    if merge
                    else None,
                )
            )
    return sorted(commits, key=lambda c: c.committed_at)


def _deployments(
    rng: random.Random, service: str, environment: str, commits: list[CommitEvent], end: datetime
) -> list[DeploymentEvent]:
    """A deployment every few hours; a failure is retried (then fixed) soon after."""
    deployments: list[DeploymentEvent] = []
    cursor = commits[0].committed_at + timedelta(hours=2)
    pending = 0
    revision = commits[0].sha
    gap = {"dev": 3.0, "staging": 6.0, "prod": 10.0}.get(environment, 8.0)
    while cursor < end:
        ready = [c.sha for c in commits[pending:] if c.committed_at < cursor]
        revision = ready[-1] if ready else revision
        roll = rng.random()
        status = DeploymentStatus.SUCCEEDED
        if roll < 0.04:
            status = DeploymentStatus.ROLLED_BACK
        elif roll < 0.09:
            status = DeploymentStatus.FAILED
        deployments.append(
            DeploymentEvent(
                external_id=f"demo:{service}:{environment}:{len(deployments) + 1}",
                service=service,
                environment=environment,
                status=status,
                started_at=cursor - timedelta(minutes=rng.randint(4, 15)),
                finished_at=cursor,
                commits=tuple(ready),
                trigger="ci",
                source="demo",
                revision=revision,
            )
        )
        if status is DeploymentStatus.SUCCEEDED:
            pending += len(ready)
            cursor += timedelta(hours=rng.expovariate(1 / gap) + 0.5)
        else:
            cursor += timedelta(minutes=rng.randint(20, 120))
    return deployments


def _incidents(
    rng: random.Random, service: str, deployments: list[DeploymentEvent]
) -> list[IncidentEvent]:
    incidents: list[IncidentEvent] = []
    for deployment in deployments:
        if deployment.status is not DeploymentStatus.SUCCEEDED or rng.random() > 0.05:
            continue
        opened = deployment.finished_at + timedelta(minutes=rng.randint(5, 240))
        incidents.append(
            IncidentEvent(
                external_id=f"demo:{service}:incident:{len(incidents) + 1}",
                service=service,
                environment=deployment.environment,
                opened_at=opened,
                resolved_at=opened + timedelta(minutes=rng.randint(15, 150)),
                severity=rng.choice(["critical", "major"]),
                source="demo",
                title=rng.choice(["Error rate above SLO", "p95 latency above 200 ms", "5xx burst"]),
            )
        )
    return incidents


def seed_service(
    db: Database,
    now: datetime,
    *,
    service: str = "demo-shop",
    days: int = 90,
    seed: int = 7,
    assess: Path | None = None,
) -> Counter[str]:
    """Create `service` (dev, staging, prod) with `days` of history ending at `now`.

    With `assess`, that repository's maturity assessment is recorded for the service.
    """
    rng = random.Random(seed)  # noqa: S311 - seeded demo data, not security  # nosec B311
    start = now - timedelta(days=days)
    with db.session() as session:
        if find_service(session, service) is None:
            drafts = [EnvironmentDraft("dev"), EnvironmentDraft("staging", requires_previous=True),
                      EnvironmentDraft("prod", requires_previous=True)]  # fmt: skip
            create_service(session, service, "", "Demo service of codectl dora seed-demo", drafts,
                           start)  # fmt: skip
    commits = _commits(rng, service, start, days)
    events: list[Event] = list(commits)
    prod: list[DeploymentEvent] = []
    for environment in ("dev", "staging", "prod"):
        deployments = _deployments(rng, service, environment, commits, now - timedelta(hours=1))
        prod = deployments
        events += deployments
    events += _incidents(rng, service, prod)
    events.append(
        IncidentEvent(
            external_id=f"demo:{service}:incident:open",
            service=service,
            environment="prod",
            opened_at=now - timedelta(minutes=25),
            severity="major",
            source="demo",
            title="Checkout latency above SLO",
        )
    )
    summary: Counter[str] = Counter()
    for first in range(0, len(events), 2000):
        with db.session() as session:
            result = ingest(session, events[first : first + 2000], by="demo",
                            authorize_deploy=lambda _env: None)  # fmt: skip
        summary.update(result.created)
    _canary(db, service, now)
    if assess is not None:
        report = report_to_dict(assess_repository(assess))
        with db.session() as session:
            row = find_service(session, service)
            assert row is not None  # noqa: S101 - created above; narrows the type  # nosec B101
            history.record(session, row.id, report, now)
    return summary


def _canary(db: Database, service: str, now: datetime) -> None:
    """A canary CODE is rolling out to prod right now: 25 % of traffic, step 3 of 6."""
    with db.session() as session:
        row = find_service(session, service)
        assert row is not None  # noqa: S101 - created above; narrows the type  # nosec B101
        environment = find_environment(session, row.id, "prod")
        record_deployment(
            session,
            DeploymentRecord(
                service_id=row.id,
                environment_id=environment.id,
                version="2.4.0",
                status="progressing",
                created_at=now - timedelta(minutes=12),
                external_id=f"demo:{service}:canary",
                strategy="canary",
                trigger="manual",
                created_by="demo",
                started_at=now - timedelta(minutes=12),
                state={
                    "format": 1,
                    "status": "progressing",
                    "phase": "stepping",
                    "step_index": 3,
                    "current_weight": 25,
                    "canary_version": "2.4.0",
                    "stable_version": "2.3.1",
                    "spec": {"strategy": {"kind": "canary", "steps": CANARY_STEPS}},
                },
            ),
        )
