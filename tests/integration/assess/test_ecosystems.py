"""Go, JavaScript/TypeScript and Python laid out as setup.cfg or a uv workspace reach the same
verdicts as a pyproject.toml service: one repository per ecosystem, with the expected verdict
per check (and a hollow twin where the practice is only mentioned)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.assess.conftest import NOW
from tests.support.git import git

from code_engine.assess import Status, assess_repository
from code_engine.assess.model import Category

CI = ".github/workflows/ci.yml"
HEAD = "on:\n  push:\n    branches: [main]\n  pull_request:\npermissions: read-all\n"


def workflow(*runs: str) -> str:
    steps = "".join(f"      - run: {run}\n" for run in runs)
    return f"{HEAD}jobs:\n  checks:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"


GO_MAIN = """\
package main

import (
\t"log/slog"
\t"net/http"

\t"github.com/prometheus/client_golang/prometheus/promhttp"
\t"go.opentelemetry.io/otel"
)

func main() {
\tslog.Info("start")
\t_ = otel.Tracer("svc")
\thttp.Handle("/metrics", promhttp.Handler())
}
"""
GO_MOD = (
    "module github.com/acme/svc\n\ngo 1.23\n\nrequire (\n"
    "\tgithub.com/prometheus/client_golang v1.20.0\n\tgo.opentelemetry.io/otel v1.31.0\n)\n"
)
JS_MAIN = """\
import express from "express";
import client from "prom-client";
import pino from "pino";
const { NodeSDK } = require("@opentelemetry/sdk-node");
"""
PACKAGE = """\
{
  "name": "web",
  "scripts": {
    "lint": "eslint .",
    "test": "vitest run --coverage"
  },
  "dependencies": {"express": "4.21.0", "prom-client": "15.1.0", "pino": "9.4.0"}
}
"""
SETUP_CFG = "[metadata]\nname = svc\n\n[options]\ninstall_requires =\n    fastapi\n"
UV_ROOT = '[tool.uv.workspace]\nmembers = ["packages/*"]\n'
MEMBER = '[project]\nname = "{name}"\nversion = "1.0.0"\ndependencies = []\n'
OBS = ("obs.metrics", "obs.structured-logging", "obs.tracing")

MONOREPO = {
    "pyproject.toml": UV_ROOT.replace("packages/*", "services/api"),
    "uv.lock": "version = 1\n",
    "services/api/pyproject.toml": MEMBER.format(name="api"),
    "services/web/package.json": PACKAGE,
    "services/web/package-lock.json": '{"lockfileVersion": 3}\n',
    "services/worker/go.mod": GO_MOD,
}

# case -> (files, {check: status})
CASES: dict[str, tuple[dict[str, str], dict[str, Status]]] = {
    "go": (
        {
            "go.mod": GO_MOD,
            "go.sum": "github.com/prometheus/client_golang v1.20.0 h1:x=\n",
            "cmd/svc/main.go": GO_MAIN,
            "cmd/svc/main_test.go": 'package main\n\nimport "testing"\n',
            CI: workflow("golangci-lint run", "go test -coverprofile=cover.out ./..."),
        },
        {
            "dev.dependencies": Status.PASS,
            "dev.locked-dependencies": Status.PASS,
            "ci.tests": Status.PASS,
            "ci.coverage": Status.PASS,
            **dict.fromkeys(OBS, Status.PASS),
        },
    ),
    "go, libraries only named in a comment and a test": (
        {
            "go.mod": GO_MOD,
            "main.go": 'package main\n\n// uses go.opentelemetry.io/otel later\nimport "fmt"\n',
            "main_test.go": 'package main\n\nimport "go.uber.org/zap"\n',
            CI: workflow("echo go test ./..."),
        },
        {"ci.tests": Status.FAIL, **dict.fromkeys(OBS, Status.FAIL)},
    ),
    "typescript": (
        {
            "package.json": PACKAGE,
            "package-lock.json": '{"lockfileVersion": 3}\n',
            "src/server.ts": JS_MAIN,
            "src/server.test.ts": 'import { test } from "vitest";\n',
            CI: workflow("npm ci", "npm run lint", "npm test"),
        },
        {
            "dev.dependencies": Status.PASS,
            "dev.locked-dependencies": Status.PASS,
            "ci.tests": Status.PASS,
            "ci.coverage": Status.PASS,
            **dict.fromkeys(OBS, Status.PASS),
        },
    ),
    "javascript, only in node_modules": (
        {
            "package.json": '{"name": "web", "scripts": {"test": "echo no tests"}}\n',
            "node_modules/pino/index.js": 'const x = require("pino");\n',
            CI: workflow("npm test"),
        },
        {
            "dev.dependencies": Status.FAIL,
            "ci.tests": Status.FAIL,
            "obs.structured-logging": Status.FAIL,
        },
    ),
    "setup.cfg": (
        {"setup.cfg": SETUP_CFG, "svc/__init__.py": "import sentry_sdk\n"},
        {"dev.dependencies": Status.PASS, "obs.tracing": Status.PASS},
    ),
    "uv workspace": (
        {
            "pyproject.toml": UV_ROOT,
            "uv.lock": "version = 1\n",
            **{f"packages/{n}/pyproject.toml": MEMBER.format(name=n) for n in ("api", "worker")},
        },
        {"dev.dependencies": Status.PASS, "dev.locked-dependencies": Status.PASS},
    ),
    "monorepo with an unlocked Go module": (
        MONOREPO,
        {"dev.dependencies": Status.PASS, "dev.locked-dependencies": Status.FAIL},
    ),
    "monorepo, every package locked": (
        {**MONOREPO, "services/worker/go.sum": "go.opentelemetry.io/otel v1.31.0 h1:x=\n"},
        {"dev.dependencies": Status.PASS, "dev.locked-dependencies": Status.PASS},
    ),
    "uv workspace whose members declare nothing": (
        {"pyproject.toml": UV_ROOT, "packages/api/pyproject.toml": "[tool.ruff]\n"},
        {"dev.dependencies": Status.FAIL},
    ),
}


def build(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(root, "add", "-A", "--force")
    git(root, "commit", "-q", "--no-gpg-sign", "-m", "feat: first")
    return root


@pytest.mark.parametrize("case", CASES)
def test_ecosystem_verdicts(tmp_path: Path, case: str) -> None:
    files, expected = CASES[case]
    categories = [
        Category.DEVELOPMENT_ENVIRONMENT,
        Category.CONTINUOUS_INTEGRATION,
        Category.OBSERVABILITY,
    ]
    report = assess_repository(
        build(tmp_path / "repo", files), categories=categories, clock=lambda: NOW
    )
    found = {r.id: r for r in report.results}
    for check, status in expected.items():
        assert found[check].status is status, (case, check, found[check])
    if case == "monorepo with an unlocked Go module":
        evidence = found["dev.locked-dependencies"].evidence
        assert [(e.file, e.note) for e in evidence] == [
            ("services/worker/go.mod", "go: no lock file")
        ]
