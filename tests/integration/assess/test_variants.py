"""Other conventions reach the same level; broken files fail the right check with evidence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from code_engine.assess import Status, assess_repository
from code_engine.assess.model import CheckResult

Builder = Callable[..., Path]
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)

ALTERNATIVES = {
    "requirements.lock": (
        "fastapi==0.115.0 --hash=sha256:cd\nuvicorn[standard]==0.30.0 --hash=sha256:ab\n"
    ),
    ".devcontainer/devcontainer.json": '{"image": "mcr.microsoft.com/devcontainers/python:3"}',
    "compose.yaml": "services:\n  app:\n    image: ghcr.io/acme/svc:1.0.0\n",
    ".github/workflows/ci.yml": (
        "on: [push, pull_request]\npermissions: {contents: read}\njobs:\n  checks:\n    steps:\n"
        "      - run: bash scripts/ci.sh\n      - run: make -C . test\n"
        "      - run: pre-commit run --all-files\n"
        "      - uses: aquasecurity/trivy-action@"
        + "f"
        * 40
        + "\n        with:\n          scan-type: fs\n"
        "      - uses: aquasecurity/trivy-action@"
        + "f" * 40
        + "\n        with:\n          image-ref: svc\n"
    ),
    ".github/workflows/backup.yml": (
        "on:\n  schedule:\n    - cron: '0 2 * * *'\npermissions: read-all\njobs:\n  backup:\n"
        "    steps:\n      - run: make dr-backup\n"
    ),
    "scripts/ci.sh": "#!/bin/sh\n# lint and build\nruff check .\npython -m build\n",
    "Makefile": "test:\n\tcoverage run -m pytest\ndr-backup:\n\tcodectl dr backup\n",
    "chart/Chart.yaml": "apiVersion: v2\nname: svc\nversion: 1.0.0\n",
    "chart/templates/deployment.yaml": "kind: Deployment\nmetadata: {{ .Values.x }}\n",
    **{f"chart/values-{env}.yaml": "replicas: 1\n" for env in ("dev", "staging", "production")},
    "deploy/appset.yaml": (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: svc\n"
        "spec:\n  template:\n    spec:\n      syncPolicy:\n        automated: "
        "{prune: true, selfHeal: true}\n        retry: {limit: 3, backoff: {duration: 10s}}\n"
    ),
    "infra/main.tf": 'module "vpc" {\n  source  = "terraform-aws-modules/vpc/aws"\n}\n',
    "infra/backend.tf": 'terraform {\n  backend "gcs" {\n    bucket = "state"\n  }\n}\n',
    "infra/versions.tf": (
        'terraform {\n  required_version = "~> 1.8"\n  required_providers {\n'
        '    google = { source = "hashicorp/google", version = "6.1.0" }\n  }\n}\n'
    ),
    **{f"infra/{env}.tfvars": f'env = "{env}"\n' for env in ("dev", "staging", "prod")},
    "observability/otel.yaml": (
        "receivers: {otlp: {}}\nexporters: {loki: {}}\n"
        "service:\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [loki]\n"
    ),
    "observability/rules.yaml": (
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: svc}\n"
        "spec:\n  groups:\n    - name: svc\n      rules:\n"
        "        - alert: Down\n          expr: up == 0\n"
    ),
    "observability/dash.json": '{"panels": []}',
    "app/main.py": (
        "import jwt\nimport hvac\nimport structlog\nimport prometheus_client\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
    ),
    ".github/SECURITY.md": "# Security\n\nhttps://github.com/acme/svc/security/advisories/new\n",
    "docs/runbooks/disaster-recovery.md": "# Disaster recovery\n\n```sh\ncodectl dr restore\n```\n",
    "code.yaml": "name: svc\ndr:\n  rpo: 1h\n  rto: 4h\n",
    "docs/dr/drills/drill.json": '{"date": "2026-10-20T10:00:00Z", "result": "passed"}',
    "docs/dr/drills/old-drill.yaml": "date: 2026-01-01\nresult: passed\n",
}


def _by_id(path: Path) -> dict[str, CheckResult]:
    report = assess_repository(path, clock=lambda: NOW)
    return {r.id: r for r in report.results}


def test_alternative_conventions_pass(build_repo: Builder, level3: dict[str, str]) -> None:
    files = {**level3, **ALTERNATIVES}
    for old in (
        "uv.lock",
        "docker-compose.yml",
        "deploy/argocd/application.yaml",
        "SECURITY.md",
        "scripts/backup.sh",
        "deploy/k8s/base/backup-cronjob.yaml",
        "docs/runbooks/restore.md",
        "docs/dr/drills/2026-10-15.md",
        "observability/promtail.yaml",
        "observability/prometheus/alerts.yaml",
        "src/svc/app.py",
        "infra/modules/app/main.tf",
        "deploy/k8s/base/external-secret.yaml",
        *(f"deploy/k8s/overlays/{env}/kustomization.yaml" for env in ("dev", "staging", "prod")),
    ):
        files.pop(old)
    results = _by_id(build_repo(files))
    failing = {i: r.evidence for i, r in results.items() if r.status is Status.FAIL}
    assert failing == {}
    assert "requirements.lock" in results["dev.locked-dependencies"].message
    assert results["iac.workspaces"].message == "a .tfvars file per environment"
    assert results["dr.scheduled-backup"].message == "scheduled backup workflow"
    assert results["dr.objectives"].evidence[0].file == "code.yaml"
    assert results["obs.log-shipping"].message == "opentelemetry collector ships logs"
    assert results["sec.secrets-manager"].message == "the application reads Vault"


BROKEN = {
    "pyproject.toml": "[project\nname = 1\n",
    "requirements-dev.txt": "requests>=2\npytest\n",
    ".github/CODEOWNERS": "# nothing yet\n",
    ".devcontainer/devcontainer.json": '{"name": "x",, }',
    "docker-compose.yml": "services:\n  app:\n    restart: always\n",
    ".github/workflows/ci.yml": "name: CI\non: push\n",
    "deploy/k8s/overlays/prod/kustomization.yaml": "resources: [\n",
    "infra/backend.tf": 'terraform {\n  backend "s3" {\n    bucket = \n}\n',
    "Dockerfile": "ARG BASE\nFROM ${BASE}\nUSER app\n",
    "docs/dr/drills/2026-10-15.md": "",
    "docs/dr/drills/drill.yaml": "date: 2026-10-30\nresult: failed\n",
    "docs/dr/drills/2025-01-01.md": "# old drill\n",
    ".secrets.baseline": "{not json",
    "policies/deploy.rego": "# no package yet\n",
}


def test_broken_files_fail_with_evidence(build_repo: Builder, level3: dict[str, str]) -> None:
    results = _by_id(build_repo({**level3, **BROKEN}))
    status = {i: r.status for i, r in results.items()}
    for check_id in (
        "scm.codeowners",
        "dev.dependencies",
        "dev.devcontainer",
        "dev.compose-stack",
        "ci.workflow",
        "ci.triggers",
        "cd.environment-overlays",
        "iac.remote-state",
        "ctr.pinned-base",
        "ctr.multi-stage",
        "sec.no-secrets",
        "sec.policies",
        "dr.drill",
    ):
        assert status[check_id] is Status.FAIL, check_id
    assert results["dev.dependencies"].evidence[0].file == "pyproject.toml"
    assert results["dev.devcontainer"].evidence[0].line == 1
    assert results["cd.environment-overlays"].evidence[-1].file.endswith("prod/kustomization.yaml")
    assert "invalid HCL" in results["iac.remote-state"].evidence[0].note
    assert results["ctr.pinned-base"].evidence[0].note.endswith("is not pinned")
    assert results["dr.drill"].evidence[0].file == "docs/dr/drills/2025-01-01.md"
    assert results["sec.no-secrets"].evidence[0].file == ".secrets.baseline"
    assert [e.note for e in results["ci.workflow"].evidence] == ["no jobs"]


def test_requirements_only_and_unpinned(build_repo: Builder, level3: dict[str, str]) -> None:
    files = {k: v for k, v in level3.items() if k not in ("pyproject.toml", "uv.lock")}
    files["requirements.txt"] = "fastapi>=0.100\n"
    results = _by_id(build_repo(files))
    assert "pyproject.toml" in results["dev.dependencies"].remediation
    locked = results["dev.locked-dependencies"]
    assert locked.status is Status.FAIL
    assert locked.evidence[0].note == "not pinned: fastapi>=0.100"


def test_secret_in_baseline_is_accepted_unless_audited_real(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    import hashlib

    value = "Xk29dlQ0vz" + "Qp"
    hashed = hashlib.sha1(value.encode()).hexdigest()  # noqa: S324 - detect-secrets' own hash
    files = {**level3, "src/svc/conf.py": f'db_password = "{value}"\n'}
    entry = '{"results": {"src/svc/conf.py": [{"hashed_secret": "%s"%s}]}}'
    accepted = _by_id(build_repo({**files, ".secrets.baseline": entry % (hashed, "")}))
    assert accepted["sec.no-secrets"].status is Status.PASS
    real = _by_id(
        build_repo({**files, ".secrets.baseline": entry % (hashed, ', "is_secret": true')})
    )
    assert real["sec.no-secrets"].status is Status.FAIL
