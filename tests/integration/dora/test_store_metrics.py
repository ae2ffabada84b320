"""Events ingested in any order, duplicated or superseded, give the domain's metrics.

The same history goes through the real ingestion into SQLite and PostgreSQL, in shuffled
batches; the store's four keys and trend must equal those the pure domain computes from
the deduplicated events.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from code_engine.catalog.store import EnvironmentDraft, create_service
from code_engine.dora.dedupe import dedupe
from code_engine.dora.events import Event
from code_engine.dora.ingest import ingest
from code_engine.dora.metrics import compute_four_keys
from code_engine.dora.render import keys_to_dict, point_to_dict
from code_engine.dora.report import service_reports
from code_engine.dora.trend import weekly_trend
from code_engine.store.engine import Database

from .history import T0, history

WINDOWS = [
    (T0 + timedelta(days=45), T0 + timedelta(days=75)),  # history before the window
    (T0 + timedelta(days=20), T0 + timedelta(days=41, hours=7)),  # events after it too
    (T0 - timedelta(days=3), T0 + timedelta(days=90)),  # everything
]


def _setup(db: Database) -> None:
    envs = [EnvironmentDraft("dev"), EnvironmentDraft("staging"), EnvironmentDraft("prod")]
    with db.session() as session:
        for name in ("api", "web"):
            create_service(session, name, "", "", envs, T0)


def _send(db: Database, events: list[Event], seed: int) -> None:
    rng = random.Random(seed)
    position = 0
    while position < len(events):
        size = rng.randint(1, 40)
        with db.session() as session:
            ingest(
                session,
                events[position : position + size],
                by="test",
                authorize_deploy=lambda _env: None,
            )
        position += size


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _expected(final: list[Event], service: str, env: str, start: datetime, end: datetime):
    events = dedupe(final)
    parts = [
        [e for e in events if type(e).__name__ == kind]
        for kind in ("DeploymentEvent", "IncidentEvent", "CommitEvent")
    ]
    keys = compute_four_keys(*parts, service=service, environment=env, start=start, end=end)
    trend = weekly_trend(*parts, service=service, environment=env, start=start, end=end)
    return _rounded(keys_to_dict(keys)), _rounded([point_to_dict(p) for p in trend])


@pytest.mark.parametrize("seed", [1, 2])
def test_any_order_gives_the_domain_metrics(database: Database, seed: int) -> None:
    final, sent = history(seed)
    _setup(database)
    _send(database, sent, seed)
    for start, end in WINDOWS:
        for env in ("prod", "staging"):
            with database.session() as session:
                reports = service_reports(session, start=start, end=end, environment=env)
            assert [r.keys.service for r in reports] == ["api", "web"]
            for report in reports:
                keys, trend = _expected(final, report.keys.service, env, start, end)
                assert _rounded(keys_to_dict(report.keys)) == keys, (start, env)
                assert _rounded([point_to_dict(p) for p in report.trend]) == trend


def test_sending_everything_twice_changes_nothing(database: Database) -> None:
    final, sent = history(3)
    _setup(database)
    _send(database, sent, 3)
    start, end = WINDOWS[0]
    with database.session() as session:
        before = [keys_to_dict(r.keys) for r in service_reports(session, start=start, end=end)]
    _send(database, list(reversed(sent)), 4)
    with database.session() as session:
        after = [keys_to_dict(r.keys) for r in service_reports(session, start=start, end=end)]
    assert after == before
    assert before[0]["deployment_frequency"]["sample_size"] > 0
