"""`codectl server` as a real process over real HTTP, driven by the real `codectl` CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.network import free_port
from tests.support.waiting import wait_for_http

CODECTL = [sys.executable, "-m", "code_engine"]


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_")}
    env.update(
        CODE_DATA_DIR=str(tmp_path / "data"),
        CODE_DATABASE_URL=database_url,
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        NO_COLOR="1",
    )
    return env


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[tuple[str, dict[str, str], str]]:
    port = free_port()
    env = _env(tmp_path, database_url)
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*CODECTL, "server", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/readyz", 60, proc, log)
    try:
        yield url, env, log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_first_start_prints_admin_credentials_that_work(server) -> None:
    url, env, output = server
    client_id = re.search(r"client id:\s+(\S+)", output)
    secret = re.search(r"client secret:\s+(\S+)", output)
    assert client_id and secret, output
    login = subprocess.run(
        [
            *CODECTL,
            "login",
            "--server",
            url,
            "--client-id",
            client_id[1],
            "--client-secret",
            secret[1],
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    token_file = Path(env["XDG_CONFIG_HOME"]) / "code-engine" / "credentials.json"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = json.loads(token_file.read_text())["token"]
    created = httpx.post(
        f"{url}/api/v1/services", json={"name": "api"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201
    listed = subprocess.run(
        [*CODECTL, "services", "list", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert [s["name"] for s in json.loads(listed.stdout)] == ["api"]
    table = subprocess.run(
        [*CODECTL, "services", "show", "api"], env=env, capture_output=True, text=True, check=False
    )
    assert "environments" in table.stdout
    metrics = httpx.get(f"{url}/metrics").text
    series = 'code_http_requests_total{method="POST",route="/api/v1/services",status="201"}'
    assert series in metrics
    assert "process_resident_memory_bytes" in metrics
    assert secret[1] not in httpx.get(f"{url}/openapi.json").text


# the CLI's answer to a refused login, whatever the database: once, on SQLite
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_wrong_secret_is_refused_without_traceback(server) -> None:
    url, env, _ = server
    result = subprocess.run(
        [*CODECTL, "login", "--server", url, "--client-id", "nobody", "--client-secret", "x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "client authentication failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_assess_report_to_stores_the_trend(server, tmp_path: Path) -> None:
    url, env, output = server
    client_id = re.search(r"client id:\s+(\S+)", output)
    secret = re.search(r"client secret:\s+(\S+)", output)
    assert client_id and secret
    subprocess.run(
        [
            *CODECTL,
            "login",
            "--server",
            url,
            "--client-id",
            client_id[1],
            "--client-secret",
            secret[1],
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    repo = tmp_path / "svc"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    token = json.loads(
        (Path(env["XDG_CONFIG_HOME"]) / "code-engine" / "credentials.json").read_text()
    )["token"]
    httpx.post(
        f"{url}/api/v1/services", json={"name": "svc"}, headers={"Authorization": f"Bearer {token}"}
    )
    result = subprocess.run(
        [*CODECTL, "assess", str(repo), "--report-to", url, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "recorded assessment" in result.stderr
    trend = httpx.get(
        f"{url}/api/v1/services/svc/assessments", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert [p["level"] for p in trend["items"]] == [json.loads(result.stdout)["level"]]
