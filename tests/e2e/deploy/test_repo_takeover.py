"""A developer and dev deployer cannot make CODE run a command of their choosing.

The attack this guards against: point a service at a repository one controls (through the
release body, a new service or a change of the service), release a commit whose code.yaml
runs a command, and deploy it to `dev`. Every door is tried against the real server and
worker; the command writes a marker file, which must never appear.
"""

from __future__ import annotations

import json
import subprocess
from itertools import count
from pathlib import Path

import httpx

from .harness import Engine, ServiceRepo

_names = count(1)


def _client(engine: Engine, name: str, *roles: str) -> dict[str, str]:
    flags = [flag for role in roles for flag in ("--role", role)]
    result = engine.cli("clients", "create", name, *flags, "--output", "json")
    assert result.returncode == 0, result.stderr
    creds = json.loads(result.stdout)
    form = {"grant_type": "client_credentials", **creds}
    token = httpx.post(f"{engine.url}/oauth/token", data=form, timeout=30).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _attacker_repo(path: Path, service: str, marker: Path) -> str:
    path.mkdir(parents=True)
    spec = f"""\
service: {service}
repo: .
environments:
  - name: dev
    target:
      kind: local
      command: "sh -c 'touch {marker}; sleep 30'"
"""
    (path / "code.yaml").write_text(spec)
    identity = ["-c", "user.name=m", "-c", "user.email=m@example.test"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", *identity, "-C", str(path), *args], check=True)  # noqa: S603,S607
    head = ["git", "-C", str(path), "rev-parse", "HEAD"]
    return subprocess.run(head, capture_output=True, text=True, check=True).stdout.strip()  # noqa: S603


def test_a_developer_and_dev_deployer_cannot_choose_what_runs(
    engine: Engine, tmp_path: Path
) -> None:
    service = ServiceRepo(tmp_path / "repo", f"guarded{next(_names)}", ("dev",))
    service.create(engine)
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil"
    evil_sha = _attacker_repo(evil, service.name, marker)
    headers = _client(engine, f"mallory{next(_names)}", "developer", "deployer:dev")

    def call(method: str, path: str, body: dict[str, object]) -> httpx.Response:
        url = f"{engine.url}{path}"
        return httpx.request(method, url, json=body, headers=headers, timeout=60)

    # 1. name the repository in the release, of a service registered with or without one:
    # the field does not exist, and a release without a repository records nothing to run
    bare = f"bare{next(_names)}"
    engine.api("POST", "/api/v1/services", {"name": bare, "environments": [{"name": "dev"}]})
    for name in (bare, service.name):
        release = {"service": name, "version": "evil1", "repo": str(evil)}
        answer = call("POST", "/api/v1/releases", release)
        assert answer.status_code == 422, answer.text
        assert "repo" in answer.text
    assert engine.api("GET", f"/api/v1/services/{bare}")["repo"] == ""
    release = {"service": bare, "version": "evil1", "sha": evil_sha}
    assert call("POST", "/api/v1/releases", release).status_code == 201  # a record, no code
    deploy = {"service": bare, "environment": "dev", "version": "evil1", "run": True}
    answer = call("POST", "/api/v1/deployments", deploy)
    assert answer.status_code == 422, answer.text
    # 2. change the service's repository, or register a service of one's own: admin only
    answer = call("PATCH", f"/api/v1/services/{service.name}", {"repo": str(evil)})
    assert answer.status_code == 403, answer.text
    own = {"name": f"mine{next(_names)}", "repo": str(evil), "environments": [{"name": "dev"}]}
    assert call("POST", "/api/v1/services", own).status_code == 403
    # 3. a release names a commit of the registered repository, and nothing else
    release = {"service": service.name, "version": "evil2", "sha": evil_sha}
    answer = call("POST", "/api/v1/releases", release)
    assert answer.status_code == 422, answer.text
    # what the developer may do: release a commit of the registered repository, and deploy it
    sha = service.write("v1", "[{set_weight: 100}]")
    release = {"service": service.name, "version": "v1", "sha": sha}
    answer = call("POST", "/api/v1/releases", release)
    assert answer.status_code == 201, answer.text
    deploy = {"service": service.name, "environment": "dev", "version": "v1", "run": True}
    answer = call("POST", "/api/v1/deployments", deploy)
    assert answer.status_code == 201, answer.text
    done = engine.wait(int(answer.json()["id"]))
    assert done["status"] == "succeeded", done["message"]
    assert service.serving("dev") == "v1"
    # the admin's change of repository is recorded in the audit trail
    engine.api("PATCH", f"/api/v1/services/{service.name}", {"repo": str(service.path)})
    trail = engine.api("GET", "/api/v1/audit", action="service.repo.change")
    assert any(item["resource"] == f"service/{service.name}" for item in trail["items"])
    assert not marker.exists()
