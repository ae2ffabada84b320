"""`codectl server` as a real process on a free port, for tests of what the server enforces."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CLIENT_ID, CLIENT_SECRET = (
    "sec-admin",
    "sec-admin-secret-for-tests-only",
)  # pragma: allowlist secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    token: str = ""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def memory_kib(self, field: str = "VmRSS") -> int:
        """VmRSS (now) or VmHWM (peak) of the server process, in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} for the server")

    def raw(self, request: bytes, timeout: float = 10) -> bytes:
        """Send `request` as is and return what the server answers before closing."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            try:
                sock.sendall(request)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused mid-request: what it answered is still to read
            chunks = []
            try:
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except ConnectionResetError:
                pass
        return b"".join(chunks)


@contextmanager
def running_server(root: Path, extra: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Start the server (SQLite in its own data directory) and an admin token."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_")}
    env.update(
        CODE_DATA_DIR=str(root / "data"),
        CODE_BOOTSTRAP_CLIENT_ID=CLIENT_ID,
        CODE_BOOTSTRAP_CLIENT_SECRET=CLIENT_SECRET,
        CODE_LOG_FORMAT="console",
        XDG_CONFIG_HOME=str(root / "config"),
        NO_COLOR="1",
        **(extra or {}),
    )
    log = root / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "code_engine", "server", "--no-worker", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
        form["client_secret"] = CLIENT_SECRET
        answer = httpx.post(f"{server.url}/oauth/token", data=form, timeout=30)
        server.token = answer.json()["access_token"]
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
