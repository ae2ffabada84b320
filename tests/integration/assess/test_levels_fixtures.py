"""Fixture repositories at exactly Level 0-3, and one mutation per check that fails it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.integration.assess.conftest import DIGEST

from code_engine.assess import Status, assess_repository
from code_engine.assess.levels import category_level
from code_engine.assess.model import Category, Report
from code_engine.assess.registry import BY_ID, CHECKS

Files = dict[str, str]
Builder = Callable[..., Path]
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
FAKE_AWS_KEY = "AKIA" + "Z7QW3E5R1T2Y4U6I"


@dataclass(frozen=True)
class Mutation:
    """A change to the Level-3 repository that fails `check` (and `also`, which depend on it)."""

    edit: Callable[[Files], Files] = lambda files: files
    history: dict[str, bool] = field(default_factory=dict)
    also: frozenset[str] = frozenset()


def drop(*paths: str) -> Callable[[Files], Files]:
    return lambda files: {k: v for k, v in files.items() if k not in paths}


def replace(path: str, old: str, new: str) -> Callable[[Files], Files]:
    def edit(files: Files) -> Files:
        if path not in files or old not in files[path]:
            return files  # an earlier mutation of the same file already broke it
        return {**files, path: files[path].replace(old, new)}

    return edit


def add(path: str, text: str) -> Callable[[Files], Files]:
    return lambda files: {**files, path: text}


CI = ".github/workflows/ci.yml"
# judged through the GitHub API (test_github_api.py); these repositories have no GitHub origin
THROUGH_API = frozenset({"scm.branch-protection", "scm.code-review"})
ALL_CI = {c.id for c in CHECKS if c.category is Category.CONTINUOUS_INTEGRATION}
ALL_IAC = {c.id for c in CHECKS if c.category is Category.INFRASTRUCTURE_AS_CODE}
DEPLOY = "deploy/k8s/base/deployment.yaml"
CRON = "deploy/k8s/base/backup-cronjob.yaml"

MUTATIONS: dict[str, Mutation] = {
    "scm.gitignore": Mutation(drop(".gitignore")),
    "scm.codeowners": Mutation(replace(".github/CODEOWNERS", "/infra/ @acme/sre", "/infra/")),
    "scm.conventional-commits": Mutation(history={"conventional": False}),
    "scm.signed-commits": Mutation(history={"signed": False}),
    "scm.changelog": Mutation(drop("cliff.toml")),
    "scm.release-tags": Mutation(history={"tag": False}),
    "dev.dependencies": Mutation(replace("pyproject.toml", "[project]", "[tool.svc]")),
    "dev.pre-commit": Mutation(
        drop(".pre-commit-config.yaml"), also=frozenset({"dev.pre-commit-coverage"})
    ),
    "dev.locked-dependencies": Mutation(drop("uv.lock")),
    "dev.pre-commit-coverage": Mutation(
        replace(
            ".pre-commit-config.yaml",
            "id: mypy\n        name: mypy\n        entry: mypy src",
            "id: types\n        name: types\n        entry: 'true'",
        )
    ),
    "dev.devcontainer": Mutation(drop(".devcontainer/devcontainer.json")),
    "dev.compose-stack": Mutation(replace("docker-compose.yml", "build: .", "restart: always")),
    "ci.workflow": Mutation(
        add(CI, "on: [push\njobs: {\n"), also=frozenset(ALL_CI | {"ctr.image-scan"})
    ),
    "ci.tests": Mutation(
        replace(CI, "pytest --cov=src --cov-report=xml", "coverage xml"),
        also=frozenset({"ci.quality-jobs"}),
    ),
    "ci.triggers": Mutation(replace(CI, "  pull_request:\n", "")),
    "ci.quality-jobs": Mutation(replace(CI, "make lint", "echo lint")),
    "ci.coverage": Mutation(replace(CI, "pytest --cov=src --cov-report=xml", "pytest")),
    "ci.dependency-scan": Mutation(replace(CI, "      - run: pip-audit\n", "")),
    "ci.sast": Mutation(replace(CI, "bandit -r src", "gitleaks detect")),
    "cd.manifests": Mutation(drop(DEPLOY, CRON), also=frozenset({"dr.scheduled-backup"})),
    "cd.environment-overlays": Mutation(drop("deploy/k8s/overlays/staging/kustomization.yaml")),
    "cd.gitops-application": Mutation(
        drop("deploy/argocd/application.yaml"),
        also=frozenset({"cd.automated-sync", "cd.sync-retry"}),
    ),
    "cd.automated-sync": Mutation(
        replace("deploy/argocd/application.yaml", "selfHeal: true", "selfHeal: false")
    ),
    "cd.sync-retry": Mutation(replace("deploy/argocd/application.yaml", "limit: 5", "limit: 0")),
    "iac.terraform": Mutation(
        drop("infra/main.tf", "infra/versions.tf", "infra/backend.tf", "infra/modules/app/main.tf"),
        also=frozenset(ALL_IAC),
    ),
    "iac.provider-pins": Mutation(replace("infra/versions.tf", '      version = "~> 5.0"\n', "")),
    "iac.modules": Mutation(
        replace(
            "infra/main.tf",
            'module "app" {\n  source = "./modules/app"\n',
            'resource "x" "app" {\n',
        )
    ),
    "iac.remote-state": Mutation(
        replace("infra/backend.tf", 'backend "s3"', 'backend "local"'),
        also=frozenset({"iac.state-locking"}),
    ),
    "iac.state-locking": Mutation(replace("infra/backend.tf", "dynamodb_table", "encrypt")),
    "iac.workspaces": Mutation(replace("infra/main.tf", "terraform.workspace", '"prod"')),
    "ctr.dockerfile": Mutation(
        drop("Dockerfile"),
        also=frozenset(
            {
                "ctr.dockerignore",
                "ctr.multi-stage",
                "ctr.non-root",
                "ctr.pinned-base",
                "ctr.minimal-base",
            }
        ),
    ),
    "ctr.dockerignore": Mutation(drop(".dockerignore")),
    "ctr.multi-stage": Mutation(
        replace("Dockerfile", "COPY --from=build /install /usr/local", "COPY src /app")
    ),
    "ctr.non-root": Mutation(replace("Dockerfile", "USER 65532", "USER root")),
    "ctr.pinned-base": Mutation(
        replace("Dockerfile", f"python:3.12-slim@{DIGEST}", "python:latest"),
        also=frozenset({"sec.pinned-dependencies"}),
    ),
    "ctr.minimal-base": Mutation(
        replace("Dockerfile", "gcr.io/distroless/python3-debian12@", "python:3.12@")
    ),
    "ctr.image-scan": Mutation(replace(CI, "      - run: trivy image svc:ci\n", "")),
    "obs.metrics": Mutation(
        replace("src/svc/app.py", "from prometheus_client import Counter\n", "Counter = list\n")
    ),
    "obs.structured-logging": Mutation(replace("src/svc/app.py", "import structlog\n", "")),
    "obs.dashboards": Mutation(drop("observability/grafana/dashboards/svc.json")),
    "obs.alert-rules": Mutation(
        replace(
            "observability/prometheus/alerts.yaml", "alert: HighErrorRate", "record: svc:errors"
        )
    ),
    "obs.log-shipping": Mutation(drop("observability/promtail.yaml")),
    "obs.tracing": Mutation(replace("src/svc/app.py", "from opentelemetry import trace\n", "")),
    "sec.no-secrets": Mutation(add("src/svc/settings.py", f'AWS_KEY = "{FAKE_AWS_KEY}"\n')),
    "sec.security-policy": Mutation(drop("SECURITY.md")),
    "sec.authentication": Mutation(
        replace("src/svc/app.py", "from fastapi.security import OAuth2PasswordBearer\n", "")
    ),
    "sec.secrets-manager": Mutation(drop("deploy/k8s/base/external-secret.yaml")),
    "sec.policies": Mutation(drop("policies/deploy.rego")),
    "sec.policy-tests": Mutation(drop("policies/deploy_test.rego")),
    "sec.dangerous-workflow": Mutation(
        add(
            ".github/workflows/triage.yml",
            "on: issues\npermissions: read-all\njobs:\n  triage:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - run: echo '${{ github.event.issue.title }}'\n",
        )
    ),
    "sec.token-permissions": Mutation(replace(CI, "permissions: read-all\n", "")),
    "sec.pinned-dependencies": Mutation(
        replace(CI, "@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2", "@v4")
    ),
    "sec.binary-artifacts": Mutation(add("tools/helper.exe", "MZ\n")),
    "sec.dependency-update-tool": Mutation(drop(".github/dependabot.yml")),
    "scm.license": Mutation(drop("LICENSE")),
    "sec.pod-security": Mutation(replace(DEPLOY, "runAsNonRoot: true", "runAsNonRoot: false")),
    "dr.backup": Mutation(drop("scripts/backup.sh", CRON), also=frozenset({"dr.scheduled-backup"})),
    "dr.scheduled-backup": Mutation(drop(CRON)),
    "dr.objectives": Mutation(replace("docs/runbooks/restore.md", "RTO: 4 hours\n", "")),
    "dr.drill": Mutation(drop("docs/dr/drills/2026-10-15.md")),
}


def _fix_runbook(files: Files) -> Files:
    # without a numbered list the runbook has no steps; drop the other numbers too
    text = files.get("docs/runbooks/restore.md", "")
    return {**files, "docs/runbooks/restore.md": text.replace("2. ", "").replace("3. ", "")}


MUTATIONS["dr.restore-runbook"] = Mutation(
    lambda files: _fix_runbook(replace("docs/runbooks/restore.md", "1. Stop", "Stop")(files))
)


def apply(base: Files, mutations: list[Mutation]) -> tuple[Files, dict[str, bool]]:
    files, history = dict(base), {}
    for mutation in mutations:
        files = mutation.edit(files)
        history.update(mutation.history)
    return files, history


def assess(path: object) -> Report:
    return assess_repository(str(path), clock=lambda: NOW)


def test_every_check_has_a_mutation() -> None:
    assert set(MUTATIONS) == set(BY_ID) - THROUGH_API


def test_level_3_repository(build_repo: Builder) -> None:
    report = assess(build_repo())
    assert report.failing_ids == ()
    assert report.level == 3
    assert [c.level for c in report.categories] == [3] * 9


@pytest.mark.parametrize("level", [0, 1, 2])
def test_repository_at_exact_level(build_repo: Builder, level3: Files, level: int) -> None:
    """Failing every check of level N+1 puts every category, and the repository, at level N."""
    above = [m for check_id, m in MUTATIONS.items() if BY_ID[check_id].level == level + 1]
    files, history = apply(level3, above)
    report = assess(build_repo(files, **history))
    assert report.level == level
    assert [c.level for c in report.categories] == [level] * 9
    failing = set(report.failing_ids)
    assert {c.id for c in CHECKS if c.level == level + 1} - THROUGH_API <= failing
    assert all(BY_ID[check_id].level > level for check_id in failing)


@pytest.mark.parametrize("check_id", sorted(MUTATIONS))
def test_mutation_fails_exactly_its_checks(
    build_repo: Builder, level3: Files, check_id: str
) -> None:
    mutation = MUTATIONS[check_id]
    files, history = apply(level3, [mutation])
    assert files != level3 or history, "the mutation changes nothing"
    report = assess(build_repo(files, **history))
    assert set(report.failing_ids) == {check_id, *mutation.also}
    for category in report.categories:
        assert category.level == category_level(category.results)
    result = next(r for r in report.results if r.id == check_id)
    assert result.status is Status.FAIL
    assert result.remediation


ONE_PER_CATEGORY = [
    "scm.codeowners",
    "dev.locked-dependencies",
    "ci.coverage",
    "cd.automated-sync",
    "iac.state-locking",
    "ctr.non-root",
    "obs.tracing",
    "sec.pod-security",
    "dr.drill",
]


@pytest.mark.parametrize("check_id", ONE_PER_CATEGORY)
def test_category_repository_failing_one_check(
    build_repo: Builder, level3: Files, check_id: str
) -> None:
    files, history = apply(level3, [MUTATIONS[check_id]])
    report = assess(build_repo(files, **history))
    assert report.failing_ids == (check_id,)
    check = BY_ID[check_id]
    levels = {c.category: c.level for c in report.categories}
    assert levels.pop(check.category) == check.level - 1
    assert set(levels.values()) == {3}
    assert report.level == check.level - 1


def test_unparsable_workflow_is_evidence_not_a_crash(build_repo: Builder, level3: Files) -> None:
    files, _ = apply(level3, [MUTATIONS["ci.workflow"]])
    report = assess(build_repo(files))
    result = next(r for r in report.results if r.id == "ci.workflow")
    assert result.evidence[0].file == CI
    assert result.evidence[0].line == 2
    assert "invalid YAML" in result.evidence[0].note


def test_secret_evidence_names_file_and_line(build_repo: Builder, level3: Files) -> None:
    files, _ = apply(level3, [MUTATIONS["sec.no-secrets"]])
    report = assess(build_repo(files))
    result = next(r for r in report.results if r.id == "sec.no-secrets")
    assert (result.evidence[0].file, result.evidence[0].line) == ("src/svc/settings.py", 1)
    assert FAKE_AWS_KEY not in repr(report)
