"""`codectl ci --report-to URL` posts the run report, with the CLI's bearer token, to a real
HTTP server; a failing step's output is shown in full and the exit code is 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.support.pipeline_repo import CODECTL, code_yaml, make_repo

received: list[tuple[str, str, dict[str, Any]]] = []


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        received.append((self.path, self.headers["Authorization"], body))
        payload = json.dumps({"id": 7}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_run_is_posted_and_a_failing_step_shows_its_whole_output(
    tmp_path: Path, server: str
) -> None:
    noisy = "; ".join(f"print('line {i}')" for i in range(300))
    pipeline = f"""\
        defaults: false
        steps:
          - name: noisy
            stage: lint
            run: [{sys.executable}, -c, "{noisy}; raise SystemExit(3)"]
    """
    repo = make_repo(tmp_path / "shop", yaml=code_yaml("all_tests_pass: false\n", pipeline))
    env = {**os.environ, "CODE_TOKEN": "token-for-ci", "NO_COLOR": "1"}

    done = subprocess.run(
        [CODECTL, "ci", "--step", "noisy", "--report-to", server], cwd=repo, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 1
    assert all(f"line {i}\n" in done.stderr for i in range(300))
    assert "error: pipeline failed: noisy" in done.stderr
    [(path, authorization, body)] = received
    assert path == "/api/v1/pipeline/runs"
    assert authorization == "Bearer token-for-ci"
    assert body["status"] == "failed"
    assert body["steps"] == [
        {"name": "noisy", "stage": "lint", "status": "failed", "cached": False,
         "duration_s": body["steps"][0]["duration_s"], "reason": "exit code 3"}
    ]  # fmt: skip
    assert (
        body["commit"]
        == subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
