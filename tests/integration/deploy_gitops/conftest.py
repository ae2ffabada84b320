"""A Kubernetes service end to end: its repository (the example's kustomize tree), a bare
GitOps remote, the recorded Argo CD server, the API and a worker ticked by the test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from tests.conftest import FrozenClock, MigratedTemplates
from tests.support.argocd import RecordedApp, RecordedArgoCD, recorded_argocd
from tests.support.git import git
from tests.support.kubernetes import kubectl as find_kubectl
from tests.support.pipeline_runs import passing_run

from code_engine.deploy.kubernetes.argocd import HttpArgoCD
from code_engine.settings import Settings
from code_engine.store.engine import Database
from code_engine.worker import Worker, WorkerConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "kubernetes"
EXAMPLE_REMOTE = "https://git.example.com/acme/gitops.git"
H = dict[str, str]


@pytest.fixture(scope="module")
def argo() -> Iterator[RecordedArgoCD]:
    with recorded_argocd() as world:
        yield world


@pytest.fixture
def database_url(tmp_path: Path, migrated_templates: MigratedTemplates) -> str:
    """SQLite only: each test renders with kustomize several times, and the deploy
    capability's database behaviour is covered on PostgreSQL by its own tests."""
    migrated_templates.sqlite_copy(tmp_path / "code.db")
    return f"sqlite:///{tmp_path / 'code.db'}"


@pytest.fixture(autouse=True)
def kubectl() -> Path:
    """The real kustomize these tests render with; skipped without it, failed in CI
    (CODE_TEST_REQUIRE_KUBECTL=1)."""
    return find_kubectl()


@pytest.fixture
def settings(data_dir: Path, database_url: str, argo: RecordedArgoCD) -> Settings:
    return Settings(
        env="dev",
        data_dir=data_dir,
        database_url=database_url,
        argocd_url=argo.url,
        argocd_token=SecretStr(argo.token),
    )


@dataclass
class Remote:
    """The bare GitOps repository Argo CD would sync."""

    path: Path

    def head(self, branch: str = "main") -> str:
        return git(self.path, "rev-parse", f"refs/heads/{branch}")

    def message(self, rev: str = "main") -> str:
        return git(self.path, "log", "-1", "--format=%B", rev)

    def author(self, rev: str = "main") -> str:
        return git(self.path, "log", "-1", "--format=%an <%ae>", rev)

    def show(self, path: str, rev: str = "main") -> str:
        return git(self.path, "show", f"{rev}:{path}")

    def count(self, rev: str = "main") -> int:
        return int(git(self.path, "rev-list", "--count", rev))

    def race(self, work: Path, name: str) -> str:
        """A second committer pushes an unrelated commit to main."""
        if not (work / ".git").is_dir():
            git(work.parent, "clone", "-q", str(self.path), str(work))
        git(work, "pull", "-q", "--ff-only")
        (work / "OTHER.md").write_text(f"{name}\n")
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", f"docs: {name}")
        git(work, "push", "-q", "origin", "HEAD:main")
        return git(work, "rev-parse", "HEAD")


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    bare = tmp_path / "gitops.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "gitops-seed"
    git(tmp_path, "clone", "-q", str(bare), str(seed))
    (seed / "README.md").write_text("GitOps repository: Argo CD syncs apps/*/<env>.\n")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "docs: the GitOps repository")
    git(seed, "push", "-q", "origin", "HEAD:main")
    return Remote(bare)


@dataclass
class Service:
    """The example service's repository, pointed at the test's GitOps remote."""

    path: Path
    remote: Remote

    def commit(self, message: str, change: Callable[[Path], Any] | None = None) -> str:
        if change is not None:
            change(self.path)
        (self.path / "CHANGES").write_text(message + "\n")
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", message)
        return git(self.path, "rev-parse", "HEAD")

    def edit(self, name: str, old: str, new: str) -> Callable[[Path], None]:
        def change(root: Path) -> None:
            text = (root / name).read_text()
            assert old in text, (name, old)
            (root / name).write_text(text.replace(old, new))

        return change


@pytest.fixture
def service(tmp_path: Path, remote: Remote) -> Service:
    path = tmp_path / "shop"
    shutil.copytree(EXAMPLE, path, ignore=shutil.ignore_patterns("gitops"))
    spec = (path / "code.yaml").read_text().replace(EXAMPLE_REMOTE, str(remote.path))
    (path / "code.yaml").write_text(spec)
    git(tmp_path, "init", "-q", "-b", "main", str(path))
    made = Service(path, remote)
    made.commit("feat: shop")
    return made


@pytest.fixture
def shop(client: TestClient, admin_headers: H, service: Service, argo: RecordedArgoCD) -> Service:
    """`shop` registered with release 1.0.0; Argo CD knows shop-staging and shop-prod."""
    body = {"name": "shop", "repo": str(service.path)}
    assert client.post("/api/v1/services", json=body, headers=admin_headers).status_code == 201
    release(client, admin_headers, "1.0.0")
    argo.actions.clear()
    argo.apps = {
        f"shop-{env}": RecordedApp(
            "outofsync",
            service.remote.head(),
            service.remote.head(),
            "shop",
            f"shop-{env}",
            f"apps/shop/{env}",
            "ghcr.io/acme/shop:1.0.0",
        )
        for env in ("staging", "prod")
    }
    return service


def release(client: TestClient, headers: H, version: str) -> dict[str, Any]:
    """Release `version` at the service's HEAD, which passed its pipeline (prod requires it)."""
    body = {"service": "shop", "version": version}
    head = client.get("/api/v1/services/shop", headers=headers).json()
    sha = git(Path(head["repo"]), "rev-parse", "HEAD")
    run = client.post("/api/v1/pipeline/runs", json=passing_run("shop", sha), headers=headers)
    assert run.status_code == 201, run.text
    response = client.post("/api/v1/releases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def deploy(client: TestClient, headers: H, environment: str, version: str) -> Any:
    body = {"service": "shop", "environment": environment, "version": version, "run": True}
    return client.post("/api/v1/deployments", json=body, headers=headers)


def deployment(client: TestClient, headers: H, deployment_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/deployments/{deployment_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def worker(
    database: Database, data_dir: Path, clock: FrozenClock, argo: RecordedArgoCD
) -> Iterator[Worker]:
    config = WorkerConfig(
        data_dir=data_dir, poll=0.05, argocd=lambda: HttpArgoCD(argo.url, argo.token)
    )
    made = Worker(database, config, clock=clock)
    yield made
    made.close()
