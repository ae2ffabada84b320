"""The dashboard in a real browser: Debian's Chromium driven by playwright-core.

A real `codectl server` serves seeded data, and the service's builtin router carries some
traffic; the browser logs in through the login page, opens the dashboard, reads the four
keys and the operational metrics and saves `build/dashboard.png`. Skips when Chromium or
`tests/browser/node_modules` is missing; CODE_TEST_REQUIRE_BROWSER=1 (set by CI) fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.browser.traffic import routed_traffic
from tests.support.components import missing
from tests.support.network import free_port
from tests.support.waiting import wait_for_http, wait_until

from code_engine.auth import principals
from code_engine.auth.roles import Binding
from code_engine.cli.dora_demo import seed_service
from code_engine.store.engine import make_database
from code_engine.store.migrate import upgrade
from code_engine.web.views import format_objective, format_value

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "dashboard-browser-test"
# the band colours of style.css: green (elite, met), red (low, missed), grey (no data)
GREEN, RED, GREY = "rgb(26, 127, 55)", "rgb(207, 34, 46)", "rgb(140, 149, 159)"


def _require_browser() -> str:
    node = shutil.which("node")
    absent = []
    if not Path(CHROMIUM).exists():
        absent.append(f"Chromium ({CHROMIUM}; apt-get install chromium)")
    if node is None:
        absent.append("node (apt-get install nodejs npm)")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        absent.append("playwright-core (npm ci --prefix tests/browser)")
    if absent:
        missing("browser", "the browser test needs " + ", ".join(absent))
    assert node is not None
    return node


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'code.db'}"
    db = make_database(url)
    upgrade(db.engine)
    seed_service(db, datetime.now(timezone.utc), service="demo-shop", days=60, assess=ROOT)
    principals.create_user(
        db,
        lambda: datetime.now(timezone.utc),
        "mara",
        PASSWORD,
        frozenset({Binding.parse("viewer")}),
    )
    db.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_")}
    env.update(CODE_DATA_DIR=str(data), CODE_DATABASE_URL=url, NO_COLOR="1")
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "code_engine", "server", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/readyz", 90, proc, log)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _api(base: str, path: str, **params: str) -> dict[str, object]:
    token = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "password", "username": "mara", "password": PASSWORD},
        timeout=30,
    ).json()["access_token"]
    response = httpx.get(
        f"{base}{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _api_keys(base: str) -> dict[str, dict[str, object]]:
    services = _api(base, "/api/v1/metrics/dora", service="demo-shop")["services"]
    metrics: dict[str, dict[str, object]] = services[0]["metrics"]  # type: ignore[index]
    return metrics


@pytest.mark.slow
def test_dashboard_in_chromium(server: str, tmp_path: Path) -> None:
    node = _require_browser()
    shot = ROOT / "build" / "dashboard.png"
    shot.parent.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    # 50 requests through demo-shop's prod router, one answered 500: p95 met, 2 % errors missed
    with routed_traffic(tmp_path / "data", "demo-shop", "prod", requests=50, failures=1):
        run = subprocess.run(
            [
                node,
                str(HERE / "dashboard.mjs"),
                server,
                "mara",
                PASSWORD,
                str(shot),
                str(tmp_path / "chromium-profile"),
            ],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )
        operations = _api(server, "/api/v1/metrics/operations", service="demo-shop")
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)
    assert seen["loginPath"] == "/login"
    [cookie] = [c for c in seen["cookies"] if c["name"] == "code_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    [service] = seen["services"]
    assert service["service"] == "demo-shop"
    keys = {card["key"]: card for card in service["keys"]}
    api = _api_keys(server)
    assert list(keys) == [
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "time_to_restore",
    ]
    for key, card in keys.items():
        value = api[key]["value"]
        assert isinstance(value, float)
        assert card["value"] == format_value(value), key
        assert card["band"] == api[key]["band"] and card["sparkline"] >= 1
    assert any("canary 25 %" in row for row in service["deployments"])
    assert service["maturity"].startswith("Level ")
    _assert_operations(service, operations)
    assert shot.stat().st_size > 10_000


def _assert_operations(service: dict[str, Any], api: dict[str, Any]) -> None:
    """The operational metrics are on the page, as the API measures them, in band colours."""
    seen = service["operations"]
    assert seen["source"] == "router" and "router statistics" in seen["heading"]
    assert "uptime needs Prometheus" in seen["note"]
    cards = {card["key"]: card for card in seen["objectives"]}
    figures = {o["key"]: o for o in api["objectives"]}
    assert list(cards) == ["uptime", "p95_latency", "error_rate"]
    assert all(card["visible"] for card in cards.values())
    for key, card in cards.items():
        assert card["value"] == format_objective(key, figures[key]["value"]), key
        assert card["target"] == "SLO " + figures[key]["target"].replace(">=", "≥"), key
    assert (cards["uptime"]["verdict"], cards["uptime"]["border"]) == ("no data", GREY)
    assert cards["uptime"]["value"] == "–"
    assert figures["p95_latency"]["passed"] is True
    assert (cards["p95_latency"]["verdict"], cards["p95_latency"]["border"]) == ("met", GREEN)
    assert cards["p95_latency"]["chip"] == GREEN and cards["p95_latency"]["unit"] == "ms"
    assert figures["error_rate"]["value"] == 2.0
    assert (cards["error_rate"]["verdict"], cards["error_rate"]["border"]) == ("missed", RED)
    assert cards["error_rate"]["chip"] == RED and cards["error_rate"]["value"] == "2.00"
    # the same colours as the four keys' bands
    colours = service["bandColours"]
    assert colours.get("elite", GREEN) == GREEN and colours.get("low", RED) == RED


@pytest.mark.slow
def test_server_exports_the_refreshed_dora_gauges(server: str) -> None:
    """The real server's background refresh fills the gauges; scrapes only read them."""

    def refreshed() -> tuple[str, list[str]] | None:
        text = httpx.get(f"{server}/metrics", timeout=10).text
        stamps = [
            line.split()[-1]
            for line in text.splitlines()
            if line.startswith("code_dora_metrics_last_refresh_timestamp_seconds ")
        ]
        return (text, stamps) if stamps else None

    text, stamps = wait_until(refreshed, 60, "the first refresh of the DORA gauges", 0.2)
    assert 'code_dora_deployments{environment="prod",service="demo-shop"}' in text
    assert abs(float(stamps[0]) - time.time()) < 120
