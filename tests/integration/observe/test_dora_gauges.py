"""`code_dora_*` on /metrics come from the background refresh: a scrape never computes."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event
from starlette.testclient import TestClient
from tests.support.waiting import wait_until

from code_engine.api import create_app
from code_engine.cli.dora_demo import seed_service
from code_engine.settings import Settings
from code_engine.store.engine import Database

THREAD = "code-dora-gauges"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.name.startswith("code_dora_")
    }


def _after_first_refresh(client: TestClient) -> Samples:
    def refreshed() -> Samples | None:
        samples = _scrape(client)
        refresh = ("code_dora_metrics_last_refresh_timestamp_seconds", ())
        return samples if refresh in samples else None

    samples: Samples = wait_until(refreshed, 60, "the first refresh of the DORA gauges")
    return samples


def _services(samples: Samples) -> set[str]:
    return {
        dict(labels)["service"] for (name, labels) in samples if name == "code_dora_deployments"
    }


def _gauge_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == THREAD)


def test_metrics_serve_the_last_refresh_and_a_scrape_reads_no_table(
    settings: Settings, database: Database, clock: Any
) -> None:
    seed_service(database, clock(), service="demo-shop", days=30)
    app = create_app(settings, clock=clock, database=database, migrate=False)
    with TestClient(app) as client:
        first = _after_first_refresh(client)
        assert _services(first) == {"demo-shop"}
        assert (
            first[("code_dora_deployments", (("environment", "prod"), ("service", "demo-shop")))]
            > 0
        )
        assert (
            first[("code_dora_metrics_last_refresh_timestamp_seconds", ())] == clock().timestamp()
        )
        assert first[("code_dora_metrics_refresh_seconds", ())] >= 0

        # new history and a later time: scrapes keep serving the refresh, and run no SQL
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        seed_service(database, clock(), service="later-shop", days=30)
        clock.now += timedelta(days=2)
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            again = [_scrape(client) for _ in range(5)]
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        assert statements == []
        assert all(samples == first for samples in again)

        # the next refresh picks both up
        assert app.state.dora_gauges.refresh()
        refreshed = _scrape(client)
        assert _services(refreshed) == {"demo-shop", "later-shop"}
        stamp = refreshed[("code_dora_metrics_last_refresh_timestamp_seconds", ())]
        assert stamp == clock().timestamp()
        assert _gauge_threads() == 1
    assert _gauge_threads() == 0


def test_apps_stop_their_refresher_on_shutdown(
    settings: Settings, database: Database, clock: Any
) -> None:
    before = _gauge_threads()
    for _ in range(5):
        app = create_app(settings, clock=clock, database=database, migrate=False)
        with TestClient(app) as client:
            _after_first_refresh(client)
    # an app that never started (no lifespan) never had a thread
    create_app(settings, clock=clock, database=database, migrate=False)
    assert _gauge_threads() == before == 0


def test_zero_turns_the_gauges_off(settings: Settings, database: Database, clock: Any) -> None:
    off = settings.model_copy(update={"dora_metrics_refresh_seconds": 0})
    app = create_app(off, clock=clock, database=database, migrate=False)
    with TestClient(app) as client:
        assert app.state.dora_gauges is None and _gauge_threads() == 0
        text = client.get("/metrics").text
        assert "code_dora_" not in text and "code_http_requests_total" in text
