"""A Level-3 service repository as files plus git history, and a factory that builds it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
DIGEST = "sha256:" + "ab" * 32

WORKFLOW = """\
name: CI
on:
  push:
    branches: [main]
  pull_request:
permissions: read-all
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
      - run: make lint
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
      - run: pytest --cov=src --cov-report=xml
  security:
    runs-on: ubuntu-latest
    steps:
      - run: bandit -r src
      - run: pip-audit
  build:
    needs: [lint, test, security]
    runs-on: ubuntu-latest
    steps:
      - run: docker build -t svc:ci .
      - run: trivy image svc:ci
"""

PRE_COMMIT = """\
repos:
  - repo: local
    hooks:
      - id: ruff-format
        name: ruff format
        entry: ruff format
        language: system
        types: [python]
      - id: ruff
        name: ruff
        entry: ruff check
        language: system
        types: [python]
      - id: mypy
        name: mypy
        entry: mypy src
        language: system
        pass_filenames: false
      - id: bandit
        name: bandit
        entry: bandit -q -r src
        language: system
        pass_filenames: false
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc
spec:
  selector:
    matchLabels: {app: svc}
  template:
    metadata:
      labels: {app: svc}
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
        - name: svc
          image: ghcr.io/acme/svc:1.0.0
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: svc-backup
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          securityContext: {runAsNonRoot: true}
          restartPolicy: OnFailure
          containers:
            - name: backup
              image: ghcr.io/acme/svc:1.0.0
              command: ["/scripts/backup.sh"]
"""

APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: svc-prod
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://git.example.com/acme/svc
    path: deploy/k8s/overlays/prod
  destination:
    server: https://kubernetes.default.svc
    namespace: svc-prod
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    retry:
      limit: 5
      backoff:
        duration: 5s
        factor: 2
        maxDuration: 3m
"""

APP_PY = """\
import structlog
from fastapi.security import OAuth2PasswordBearer
from opentelemetry import trace
from prometheus_client import Counter

REQUESTS = Counter("requests_total", "Requests")
"""

LEVEL3: dict[str, str] = {
    ".gitignore": ".venv/\n__pycache__/\n",
    ".github/CODEOWNERS": "# owners\n* @acme/platform\n/infra/ @acme/sre\n",
    "CHANGELOG.md": "# Changelog\n",
    "cliff.toml": '[changelog]\nheader = "# Changelog"\n',
    "pyproject.toml": '[project]\nname = "svc"\nversion = "1.0.0"\ndependencies = ["fastapi"]\n',
    "uv.lock": "version = 1\n",
    ".pre-commit-config.yaml": PRE_COMMIT,
    ".devcontainer/devcontainer.json": (
        '{\n  // the dev service of the compose stack\n  "name": "svc",\n'
        '  "dockerComposeFile": "../docker-compose.yml",\n  "service": "app",\n}\n'
    ),
    "docker-compose.yml": "services:\n  app:\n    build: .\n  db:\n    image: postgres:16\n",
    ".github/workflows/ci.yml": WORKFLOW,
    "Makefile": ".PHONY: lint\nlint: ## Lint the code\n\truff check src\n",
    "deploy/k8s/base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    "deploy/k8s/base/deployment.yaml": DEPLOYMENT,
    "deploy/k8s/base/backup-cronjob.yaml": CRONJOB,
    "deploy/k8s/base/external-secret.yaml": (
        "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n"
        "  name: svc-db\nspec:\n  secretStoreRef: {name: vault, kind: ClusterSecretStore}\n"
    ),
    **{
        f"deploy/k8s/overlays/{env}/kustomization.yaml": "resources:\n  - ../../base\n"
        for env in ("dev", "staging", "prod")
    },
    "deploy/argocd/application.yaml": APPLICATION,
    "infra/main.tf": (
        'locals {\n  env = terraform.workspace\n}\n\nmodule "app" {\n'
        '  source = "./modules/app"\n  name   = "svc-${local.env}"\n}\n'
    ),
    "infra/versions.tf": (
        'terraform {\n  required_version = ">= 1.6"\n  required_providers {\n'
        '    aws = {\n      source  = "hashicorp/aws"\n      version = "~> 5.0"\n    }\n  }\n}\n'
    ),
    "infra/backend.tf": (
        'terraform {\n  backend "s3" {\n    bucket         = "acme-state"\n'
        '    key            = "svc.tfstate"\n    region         = "eu-west-1"\n'
        '    dynamodb_table = "acme-locks"\n  }\n}\n'
    ),
    "infra/modules/app/main.tf": (
        'variable "name" {\n  type = string\n}\n\n'
        'resource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n'
    ),
    "Dockerfile": (
        f"FROM python:3.12-slim@{DIGEST} AS build\nRUN pip install --prefix=/install .\n"
        f"FROM gcr.io/distroless/python3-debian12@{DIGEST}\n"
        "COPY --from=build /install /usr/local\nUSER 65532\n"
        'CMD ["python", "-m", "svc"]\n'
    ),
    ".dockerignore": ".git\n.venv\n",
    "src/svc/__init__.py": "",
    "src/svc/app.py": APP_PY,
    "tests/test_app.py": "def test_app():\n    assert True\n",
    "observability/grafana/dashboards/svc.json": (
        '{"title": "svc", "panels": [{"type": "graph"}]}\n'
    ),
    "observability/prometheus/alerts.yaml": (
        "groups:\n  - name: svc\n    rules:\n      - alert: HighErrorRate\n"
        "        expr: rate(errors_total[5m]) > 0.1\n        for: 5m\n"
    ),
    "observability/promtail.yaml": (
        "clients:\n  - url: http://loki:3100/loki/api/v1/push\nscrape_configs:\n  - job_name: app\n"
    ),
    "SECURITY.md": "# Security\n\nReport vulnerabilities privately to security@acme.example.\n",
    "LICENSE": "MIT License\n\nPermission is hereby granted, free of charge, to any person\n",
    ".github/dependabot.yml": (
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n"
        "    schedule: {interval: weekly}\n"
    ),
    "policies/deploy.rego": (
        'package deploy\n\ndeny contains msg if {\n  input.user == "root"\n  msg := "no root"\n}\n'
    ),
    "policies/deploy_test.rego": (
        "package deploy_test\n\nimport data.deploy\n\ntest_denies_root if {\n"
        '  deploy.deny["no root"] with input as {"user": "root"}\n}\n'
    ),
    "scripts/backup.sh": "#!/bin/sh\nset -eu\npg_dump svc | gzip > backup.sql.gz\n",
    "docs/runbooks/restore.md": (
        "# Restore\n\nRPO: 1 hour\nRTO: 4 hours\n\n1. Stop the service.\n"
        "2. Restore the latest backup.\n3. Verify and start the service.\n"
    ),
    "docs/dr/drills/2026-10-15.md": "# Drill\n\nRestore verified in 12 minutes.\n",
}

Builder = Callable[..., Path]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=_env())


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Dev",
        GIT_AUTHOR_EMAIL="dev@example.com",
        GIT_COMMITTER_NAME="Dev",
        GIT_COMMITTER_EMAIL="dev@example.com",
        GIT_AUTHOR_DATE="2026-10-01T12:00:00Z",
        GIT_COMMITTER_DATE="2026-10-01T12:00:00Z",
    )
    return env


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("ssh") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def write_repo(
    repo: Path,
    files: dict[str, str],
    *,
    signing_key: Path,
    conventional: bool = True,
    signed: bool = True,
    tag: bool = True,
) -> Path:
    """A git repository holding `files`, five commits of history and a release tag."""
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "gpg.format", "ssh")
    _git(repo, "config", "user.signingkey", str(signing_key))
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    sign = ["-S"] if signed else ["--no-gpg-sign"]
    subjects = [
        "feat: first version",
        "fix(api): retry",
        "docs: runbook",
        "ci: cache",
        "chore: bump",
    ]
    for number, subject in enumerate(subjects):
        if number:
            (repo / "CHANGELOG.md").write_text(files.get("CHANGELOG.md", "") + f"- {number}\n")
        _git(repo, "add", "-A")
        message = subject if conventional else f"update things {number}"
        _git(repo, "commit", "-q", "--allow-empty", *sign, "-m", message)
    if tag:
        _git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture
def level3() -> dict[str, str]:
    """The files of a service repository that passes every check."""
    return dict(LEVEL3)


@pytest.fixture
def build_repo(tmp_path: Path, signing_key: Path) -> Builder:
    """`build_repo(files=None, **history)` -> the path of a fresh repository."""
    counter = iter(range(1000))

    def build(files: dict[str, str] | None = None, **history: bool) -> Path:
        repo = tmp_path / f"repo{next(counter)}"
        return write_repo(
            repo, LEVEL3 if files is None else files, signing_key=signing_key, **history
        )

    return build
