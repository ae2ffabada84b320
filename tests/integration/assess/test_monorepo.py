"""Monorepos: package-scoped checks are judged for each package and rolled up.

A Python, a Go and a JavaScript package in one repository, built by the test; each variant
takes one practice away from one package, and exactly that package's check fails, named.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console
from tests.integration.assess.conftest import NOW
from tests.integration.assess.test_ecosystems import build

from code_engine.assess import Status, assess_repository, report_to_dict
from code_engine.assess.model import Category, Report
from code_engine.assess.registry import CHECKS
from code_engine.assess.render.markdown import render_markdown
from code_engine.assess.render.sarif import report_to_sarif
from code_engine.assess.render.table import render_table
from code_engine.assess.repo import RepoView

CI = ".github/workflows/ci.yml"
PACKAGE_CHECKS = {c.id for c in CHECKS if c.scope == "package"}
CATEGORIES = [
    Category.DEVELOPMENT_ENVIRONMENT,
    Category.CONTINUOUS_INTEGRATION,
    Category.OBSERVABILITY,
]

PY = "services/api"
GO = "services/worker"
JS = "web"
PYPROJECT = """\
[project]
name = "api"
version = "1.0.0"
dependencies = ["prometheus-client", "structlog", "opentelemetry-sdk"]
"""
PY_APP = """\
import structlog
from opentelemetry import trace
from prometheus_client import Counter
"""
GO_MOD = (
    "module github.com/acme/worker\n\ngo 1.23\n\nrequire (\n"
    "\tgithub.com/prometheus/client_golang v1.20.0\n\tgo.opentelemetry.io/otel v1.31.0\n)\n"
)
GO_MAIN = """\
package main

import (
\t"log/slog"

\t"github.com/prometheus/client_golang/prometheus"
\t"go.opentelemetry.io/otel"
)

func main() {}
"""
PACKAGE_JSON = json.dumps(
    {
        "name": "web",
        "scripts": {"test": "vitest run --coverage", "lint": "eslint ."},
        "dependencies": {"prom-client": "15.1.0", "pino": "9.0.0"},
    },
    indent=2,
)
JS_MAIN = """\
import client from "prom-client";
import pino from "pino";
import { NodeSDK } from "@opentelemetry/sdk-node";
"""
WORKFLOW = f"""\
on:
  push:
    branches: [main]
  pull_request:
permissions: read-all
jobs:
  python:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: {PY}
    steps:
      - run: ruff check .
      - run: pytest --cov=api
  go:
    runs-on: ubuntu-latest
    steps:
      - run: cd {GO} && go test -coverprofile=cover.out ./...
      - run: |
          cd {GO}
          golangci-lint run
  web:
    runs-on: ubuntu-latest
    steps:
      - run: npm run lint
        working-directory: {JS}
      - run: npm test
        working-directory: {JS}
  security:
    runs-on: ubuntu-latest
    steps:
      - run: bandit -r {PY}
      - run: docker build -t web {JS}
"""
MONOREPO = {
    f"{PY}/pyproject.toml": PYPROJECT,
    f"{PY}/uv.lock": "version = 1\n",
    f"{PY}/api/app.py": PY_APP,
    f"{PY}/tests/test_app.py": "def test_app():\n    assert True\n",
    f"{GO}/go.mod": GO_MOD,
    f"{GO}/go.sum": "go.opentelemetry.io/otel v1.31.0 h1:x=\n",
    f"{GO}/main.go": GO_MAIN,
    f"{GO}/main_test.go": "package main\n",
    f"{JS}/package.json": PACKAGE_JSON,
    f"{JS}/package-lock.json": '{"lockfileVersion": 3}\n',
    f"{JS}/src/server.js": JS_MAIN,
    f"{JS}/src/server.test.js": 'import { test } from "vitest";\n',
    CI: WORKFLOW,
}
MANIFESTS = [f"{PY}/pyproject.toml", f"{GO}/go.mod", f"{JS}/package.json"]


def _assess(tmp_path: Path, files: dict[str, str]) -> Report:
    repo = build(tmp_path / "repo", files)
    return assess_repository(repo, categories=CATEGORIES, clock=lambda: NOW)


def _failing_packages(report: Report) -> dict[str, list[str]]:
    """Each package-scoped check that fails, with the manifests of its failing packages."""
    return {
        r.id: [p.manifest for p in r.packages if p.status is Status.FAIL]
        for r in report.results
        if r.id in PACKAGE_CHECKS and r.status is Status.FAIL
    }


def test_every_package_passing_passes(tmp_path: Path) -> None:
    report = _assess(tmp_path, MONOREPO)
    assert [p.manifest for p in report.packages] == sorted(MANIFESTS)
    assert _failing_packages(report) == {}
    for result in report.results:
        if result.id in PACKAGE_CHECKS:
            assert result.status is Status.PASS, result
            assert result.message.startswith("3/3 packages"), result
            assert len(result.packages) == 3
        else:
            assert result.packages == ()


def test_each_package_missing_one_practice_fails_exactly_that_check(tmp_path: Path) -> None:
    files = dict(MONOREPO)
    files[f"{PY}/api/app.py"] = PY_APP.replace("from opentelemetry import trace\n", "")
    del files[f"{GO}/go.sum"]
    files[f"{JS}/src/server.js"] = JS_MAIN.replace('import pino from "pino";\n', "")
    report = _assess(tmp_path, files)
    assert _failing_packages(report) == {
        "obs.tracing": [f"{PY}/pyproject.toml"],
        "dev.locked-dependencies": [f"{GO}/go.mod"],
        "obs.structured-logging": [f"{JS}/package.json"],
    }
    found = {r.id: r for r in report.results}
    locked = found["dev.locked-dependencies"]
    assert locked.message == f"2/3 packages; failing: {GO}"
    assert locked.evidence[0].file == f"{GO}/go.mod"
    assert found["obs.tracing"].message == f"2/3 packages; failing: {PY}"
    assert found["obs.structured-logging"].message == f"2/3 packages; failing: {JS}"


def test_the_whole_repository_judgement_would_have_passed(tmp_path: Path) -> None:
    """The reason for the per-package judgement: one package's practice covered the others."""
    files = dict(MONOREPO)
    files[f"{JS}/src/server.js"] = JS_MAIN.replace('import pino from "pino";\n', "")
    report = _assess(tmp_path, files)
    check = next(c for c in CHECKS if c.id == "obs.structured-logging")
    view = RepoView.open(tmp_path / "repo", NOW)
    assert check.run(view).status is Status.PASS
    assert {r.id: r.status for r in report.results}["obs.structured-logging"] is Status.FAIL


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({CI: WORKFLOW.replace("      - run: npm test\n        working-directory: web\n", "")},
         {"ci.tests": [f"{JS}/package.json"], "ci.coverage": [f"{JS}/package.json"],
          "ci.quality-jobs": [f"{JS}/package.json"]}),
        ({CI: WORKFLOW.replace(f"cd {GO} && go test", "go test")},
         {"ci.tests": [f"{GO}/go.mod"], "ci.coverage": [f"{GO}/go.mod"],
          "ci.quality-jobs": [f"{GO}/go.mod"]}),
        ({CI: WORKFLOW.replace(f"cd {GO} && go test", "go test"),
          "go.work": f"go 1.23\n\nuse ./{GO}\n"},
         {}),
    ],
    ids=["js tests not run", "go test ./... at the root stops at go.mod", "go.work uses it"],
)  # fmt: skip
def test_ci_reaches_a_package_by_its_directory(
    tmp_path: Path, change: dict[str, str], failing: dict[str, list[str]]
) -> None:
    assert _failing_packages(_assess(tmp_path, {**MONOREPO, **change})) == failing


ROOT_PYTEST = WORKFLOW.replace("      - run: pytest --cov=api\n", "").replace(
    "  security:\n",
    "  root:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest --cov\n  security:\n",
)


@pytest.mark.parametrize(
    ("config", "tested"),
    [
        ({}, True),
        ({"pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["services/api/tests"]\n'},
         True),
        ({"pytest.ini": "[pytest]\ntestpaths = other\n", "other/test_x.py": ""}, False),
    ],
    ids=["no testpaths: collects everything below", "testpaths cover it", "testpaths elsewhere"],
)  # fmt: skip
def test_root_pytest_runs_a_package_by_testpaths(
    tmp_path: Path, config: dict[str, str], tested: bool
) -> None:
    report = _assess(tmp_path, {**MONOREPO, CI: ROOT_PYTEST, **config})
    failing = _failing_packages(report)
    assert ("ci.tests" not in failing) is tested, failing
    if not tested:
        assert failing["ci.tests"] == [f"{PY}/pyproject.toml"]


def test_a_package_a_check_does_not_apply_to_does_not_count(tmp_path: Path) -> None:
    schema = {"libs/schema/package.json": '{"name": "schema"}\n', "libs/schema/s.json": "{}\n"}
    report = _assess(tmp_path, {**MONOREPO, **schema})
    found = {r.id: r for r in report.results}
    for check in ("dev.locked-dependencies", "ci.tests", "obs.metrics"):
        result = found[check]
        assert result.status is Status.PASS, result
        assert result.message.startswith("3/3 packages (1 not applicable)"), result
        by_manifest = {p.manifest: p.status for p in result.packages}
        assert by_manifest["libs/schema/package.json"] is Status.NOT_APPLICABLE


def test_a_workspace_root_that_only_configures_is_not_judged_for_code(tmp_path: Path) -> None:
    root = {
        "package.json": json.dumps({"name": "acme", "private": True, "workspaces": [JS]}),
        "jest.config.js": "module.exports = {};\n",
    }
    report = _assess(tmp_path, {**MONOREPO, **root})
    found = {r.id: r for r in report.results}
    for check in ("obs.metrics", "obs.structured-logging", "obs.tracing"):
        by_manifest = {p.manifest: p.status for p in found[check].packages}
        assert by_manifest["package.json"] is Status.NOT_APPLICABLE, found[check]
        assert found[check].status is Status.PASS
    assert _failing_packages(report) == {}


def _schema() -> Any:
    text = resources.files("code_engine.assess").joinpath("schemas", "assess-report-2.json")
    return json.loads(text.read_text())


def test_outputs_carry_each_package(tmp_path: Path) -> None:
    del_lock = {k: v for k, v in MONOREPO.items() if k != f"{GO}/go.sum"}
    report = _assess(tmp_path, del_lock)
    data = report_to_dict(report)
    jsonschema.validate(data, _schema())
    assert [p["manifest"] for p in data["packages"]] == sorted(MANIFESTS)
    checks = {c["id"]: c for cat in data["categories"] for c in cat["checks"]}
    assert checks["dev.locked-dependencies"]["scope"] == "package"
    assert checks["dev.pre-commit"]["scope"] == "repository"
    statuses = {p["manifest"]: p["status"] for p in checks["dev.locked-dependencies"]["packages"]}
    assert statuses == {
        f"{PY}/pyproject.toml": "pass",
        f"{GO}/go.mod": "fail",
        f"{JS}/package.json": "pass",
    }
    sarif = report_to_sarif(report)
    jsonschema.validate(sarif, json.loads(_schema_text("sarif-2.1.0.json")))
    locked = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "dev.locked-dependencies"]
    assert len(locked) == 1
    location = locked[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert location == f"{GO}/go.mod"
    markdown = render_markdown(report)
    assert "### Packages (3)" in markdown
    assert f"`{GO}`" in markdown
    console = Console(width=160, record=True)
    console.print(render_table(report))
    text = console.export_text()
    assert "Packages (3): package-scoped checks" in text
    assert GO in text


def _schema_text(name: str) -> str:
    return resources.files("code_engine.assess").joinpath("schemas", name).read_text()


def test_a_single_package_repository_has_no_package_results(tmp_path: Path) -> None:
    files = {k: v for k, v in MONOREPO.items() if k.startswith(f"{PY}/") or k == CI}
    report = _assess(tmp_path, files)
    assert report.packages == ()
    assert all(r.packages == () for r in report.results)
    assert report_to_dict(report)["packages"] == []
