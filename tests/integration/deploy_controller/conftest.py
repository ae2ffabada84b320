"""A service repository with a code.yaml per commit, registered through the API."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

SPEC = """\
service: shop
repo: .
environments:
  - name: staging
    target: {{kind: local, command: "serve --port {{port}}"}}
    strategy:
      kind: canary
      steps: [{{set_weight: 25}}, {{analysis: {{interval: 1s, count: 2}}}}]
  - name: prod
    target: {{kind: local, command: "serve --port {{port}}", instances: 2}}
    protection: {{requires_previous: true, deployers: [{deployers}], requires_pipeline: false}}
"""


@dataclass
class Repo:
    path: Path

    def git(self, *args: str) -> str:
        identity = ("-c", "user.name=t", "-c", "user.email=t@example.test")
        result = subprocess.run(
            ["git", *identity, "-C", str(self.path), *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def commit(self, message: str, spec: str | None = None, deployers: str = "admin, ci") -> str:
        text = spec if spec is not None else SPEC.format(deployers=deployers)
        (self.path / "code.yaml").write_text(text)
        (self.path / "CHANGES").write_text(message + "\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    path = tmp_path / "shop"
    path.mkdir()
    made = Repo(path)
    made.git("init", "-q", "-b", "main")
    return made


@pytest.fixture
def shop(client: TestClient, admin_headers: dict[str, str], repo: Repo) -> Repo:
    """The `shop` service registered with its repository and one commit."""
    repo.commit("feat: first")
    body = {"name": "shop", "repo": str(repo.path)}
    response = client.post("/api/v1/services", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    return repo
