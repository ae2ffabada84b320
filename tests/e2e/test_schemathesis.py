"""Generated requests over the whole OpenAPI document, against a real server, as an admin.

Every operation gets a bounded number of generated requests (`SCHEMATHESIS_EXAMPLES` per
operation): no answer may be a 5xx, and every answer must match what the document says (its
status codes, content type and schema). Run alone with `pytest -m schemathesis`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

# schemathesis needs Python 3.11 (CI's version); it cannot be installed on 3.10
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis needs Python >= 3.11")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.schemathesis
CODECTL = [sys.executable, "-m", "code_engine"]
ADMIN_ID = "root"
ADMIN_SECRET = "root-secret-long-enough"  # noqa: S105 - a test server's bootstrap secret
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server on SQLite with one service, a release, deployments and an incident."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_")}
    env.update(
        CODE_DATA_DIR=str(tmp / "data"),
        CODE_BOOTSTRAP_CLIENT_ID=ADMIN_ID,
        CODE_BOOTSTRAP_CLIENT_SECRET=ADMIN_SECRET,
        CODE_DORA_METRICS_REFRESH_SECONDS="0",
        XDG_CONFIG_HOME=str(tmp / "config"),
        NO_COLOR="1",
    )
    port = _free_port()
    log = tmp / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*CODECTL, "server", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, log)
        token = httpx.post(
            f"{url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": ADMIN_ID,
                "client_secret": ADMIN_SECRET,
            },
        ).json()["access_token"]
        _seed(url, token)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # stuck in a request that never ended
            proc.kill()
            proc.wait(timeout=20)


def _wait_ready(url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not become ready:\n{log.read_text()}")


def _seed(url: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    posts: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/services", {"name": "api"}),
        ("/api/v1/releases", {"service": "api", "version": "1.0.0"}),
        ("/api/v1/deployments", {"service": "api", "environment": "dev", "version": "1.0.0"}),
        ("/api/v1/incidents", {"service": "api", "title": "slow", "environment": "dev"}),
    ]
    for path, body in posts:
        response = httpx.post(f"{url}{path}", json=body, headers=headers)
        assert response.is_success, response.text


def test_the_api_honours_its_openapi_document(api_server: tuple[str, str]) -> None:
    url, token = api_server
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
                report_multiple_bugs=False,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                case.call_and_validate(base_url=url, headers=headers, checks=CHECKS, timeout=10)

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong in a request
            except (AssertionError, FailureGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:2000]}")
            except Exception as exc:  # noqa: BLE001 - a hung or refused request is a failure too
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}")
    assert operations >= 35
    assert not failures, "\n\n".join(failures)
