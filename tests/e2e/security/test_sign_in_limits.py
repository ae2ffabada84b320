"""The token endpoint cannot exhaust the server: bounded secret checks, backoff and lockout.

Each secret check is an Argon2 verification of 64 MiB. Fifty concurrent wrong secrets
against a real server process: every one is answered 401 or 429 (with Retry-After), and
the server's peak memory stays under 400 MB. /healthz under that load is measured by
benchmarks/sign_in_load.py, not here.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .server import CLIENT_ID, Server, running_server


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Server]:
    settings = {"CODE_AUTH_FREE_FAILURES": "2", "CODE_AUTH_LOCKOUT_FAILURES": "3"}
    with running_server(tmp_path, settings) as server:
        yield server


def _attempt(server: Server, client_id: str) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secrets.token_urlsafe(16),
    }
    return httpx.post(f"{server.url}/oauth/token", data=form, timeout=60)


def test_fifty_concurrent_wrong_secrets_keep_the_server_small(server: Server) -> None:
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def attack(index: int) -> None:
        start.wait()
        # known and unknown client ids alike
        answer = _attempt(server, CLIENT_ID if index % 2 else f"nobody{index}")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=attack, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses[429] > 0
    for answer in answers:
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            assert answer.json()["error"] == "slow_down"
    assert server.memory_kib("VmHWM") < 400 * 1024
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200


def test_failures_back_off_then_lock_out_with_an_audit_record_and_a_metric(
    guarded: Server,
) -> None:
    assert [_attempt(guarded, CLIENT_ID).status_code for _ in range(3)] == [401, 401, 401]
    locked = _attempt(guarded, CLIENT_ID)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 60  # the lockout, not a backoff of seconds
    # the right secret does not get through a lockout either
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    form["client_secret"] = "sec-admin-secret-for-tests-only"  # noqa: S105  # pragma: allowlist secret
    assert httpx.post(f"{guarded.url}/oauth/token", data=form).status_code == 429
    trail = httpx.get(
        f"{guarded.url}/api/v1/audit",
        params={"action": "auth.lockout"},
        headers=guarded.headers,
        timeout=30,
    ).json()["items"]
    assert {item["principal"] for item in trail} == {
        f"principal:{CLIENT_ID}",
        "address:127.0.0.1",
    }
    assert all(item["outcome"] == "denied" for item in trail)
    metrics = httpx.get(f"{guarded.url}/metrics", timeout=30).text
    assert "code_auth_lockouts_total 2.0" in metrics
    assert 'code_auth_throttled_total{reason="locked"} 2.0' in metrics
