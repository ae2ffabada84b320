"""A deployed instance cannot read CODE's data directory, database or signing keys.

CODE runs as root here (as in CI) with the default instance user: the worker creates the
`code-instance` system user, and the instance, a small standard-library server, reports
what it could read. It runs from a release snapshot inside the data directory, which it
reaches by path without being able to list or open anything else there.
"""

from __future__ import annotations

import json
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.components import root

from .harness import Engine, free_port


@pytest.fixture(autouse=True)
def _as_root() -> None:
    root("switching the instances' user")


PYTHON = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
PROBE = """\
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

def attempt(action):
    try:
        action()
        return "allowed"
    except PermissionError:
        return "denied"
    except OSError as exc:
        return type(exc).__name__

def read(path):
    with open(path, "rb") as handle:
        handle.read(1)

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        data = os.environ["DATA"]
        report = {
            "uid": os.getuid(),
            "home": os.environ.get("HOME", ""),
            "cwd_writable": os.access(".", os.W_OK),
            "list_data_dir": attempt(lambda: os.listdir(data)),
            "read_database": attempt(lambda: read(os.path.join(data, "code.db"))),
            "list_keys": attempt(lambda: os.listdir(os.path.join(data, "keys"))),
            "read_ring": attempt(lambda: read(os.path.join(data, "keys", "ring.json"))),
            "list_logs": attempt(lambda: os.listdir(os.path.join(data, "logs"))),
            "read_own_code": attempt(lambda: read("probe.py")),
        }
        body = json.dumps(report).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


class IsolatedEngine(Engine):
    """The engine with its default instance user, as an operator running it as root has."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.pop("CODE_INSTANCE_USER")
        return env


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    # pytest's own temporary directories are closed to other users; this one is passable
    root = Path(tempfile.mkdtemp(prefix="code-isolation-"))
    root.chmod(0o711)
    running = IsolatedEngine(root, f"sqlite:///{root / 'data' / 'code.db'}")
    try:
        running.start()
        yield running
    finally:
        running.stop()
        for log in root.glob("*.log"):  # kept with the test's other files
            shutil.copy(log, tmp_path / log.name)
        shutil.rmtree(root, ignore_errors=True)


def _repo(path: Path, port: int, data_dir: Path) -> str:
    path.mkdir()
    (path / "probe.py").write_text(PROBE)
    (path / "code.yaml").write_text(f"""\
service: probe
repo: .
environments:
  - name: dev
    target:
      kind: local
      command: "{PYTHON} probe.py {{port}}"
      port: {port}
      env:
        DATA: "{data_dir}"
    strategy:
      kind: canary
      steps: [{{set_weight: 100}}]
""")
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.test"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "probe"]):
        subprocess.run(["git", *identity, "-C", str(path), *args], check=True)  # noqa: S603,S607
    head = ["git", "-C", str(path), "rev-parse", "HEAD"]
    return subprocess.run(head, capture_output=True, text=True, check=True).stdout.strip()  # noqa: S603


def test_a_deployed_instance_cannot_read_the_data_directory(engine: Engine, tmp_path: Path) -> None:
    assert PYTHON is not None, "a python3 other users may run is needed"
    data = engine.data_dir
    port = free_port()
    repo = engine.root / "repo"
    sha = _repo(repo, port, data)
    engine.api("POST", "/api/v1/services", {"name": "probe", "repo": str(repo)})
    engine.api("POST", "/api/v1/releases", {"service": "probe", "version": "v1", "sha": sha})
    body = {"service": "probe", "environment": "dev", "version": "v1", "run": True}
    done = engine.wait(int(engine.api("POST", "/api/v1/deployments", body)["id"]))
    assert done["status"] == "succeeded", done["message"]

    report = httpx.get(f"http://127.0.0.1:{port}/probe", timeout=10).json()
    user = pwd.getpwnam("code-instance")
    assert report["uid"] == user.pw_uid != 0
    assert report["home"] != str(Path.home())
    assert report["read_own_code"] == "allowed"  # its release, reached by path
    assert not report["cwd_writable"]  # the snapshot is CODE's, read-only to it
    for attempt in ("list_data_dir", "read_database", "list_keys", "read_ring", "list_logs"):
        assert report[attempt] == "denied", json.dumps(report)

    assert stat.S_IMODE(data.stat().st_mode) == 0o710
    assert data.stat().st_gid == user.pw_gid
    assert stat.S_IMODE((data / "code.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "keys").stat().st_mode) == 0o700
    for key in (data / "keys").iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
