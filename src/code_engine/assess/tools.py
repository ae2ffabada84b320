"""The tools CI commands are recognised by, one pattern per purpose."""

from __future__ import annotations

import re
from collections.abc import Iterable

from code_engine.assess.model import Evidence
from code_engine.assess.pipelines import Command

# tox, nox, make and package.json scripts are followed to the command that runs the tests
TESTS = re.compile(
    r"\bpytest\b|\bunittest\b|\bgo\s+test\b|\b(?:jest|vitest|mocha|ava)\b"
    r"|\bnode\s+--test\b|\bcargo\s+test\b"
)
LINT = re.compile(
    r"\b(ruff|flake8|pylint|pre-commit|mypy|pyright|hadolint|actionlint|golangci-lint|eslint"
    r"|staticcheck|biome|tsc\s+--noEmit)\b|\bgo\s+vet\b"
)
SECURITY = re.compile(
    r"\b(bandit|semgrep|trivy|pip-audit|safety|osv-scanner|grype|snyk|gitleaks|detect-secrets"
    r"|gosec|govulncheck)\b|codeql-action|\bnpm\s+audit\b"
)
BUILD = re.compile(
    r"\bdocker\s+(?:buildx\s+)?build\b|build-push-action|\bpython3?\s+-m\s+build\b"
    r"|\bpip\s+wheel\b|\b(?:uv|poetry|hatch|pdm)\s+build\b|\bbuildah\b|\bkaniko\b"
    r"|\bgo\s+build\b|\bgoreleaser\b|\bvite\s+build\b|\bnext\s+build\b|\bwebpack\b"
)
COVERAGE = re.compile(
    r"--cov\b|\bcoverage\s+(?:run|xml|report|json|html)\b|codecov"
    r"|-coverprofile\b|\b(?:jest|vitest)\b.*--coverage\b|\b(?:c8|nyc)\b"
)
DEPENDENCY_SCAN = re.compile(
    r"\bpip-audit\b|\bsafety\s+(?:check|scan)\b|pyupio/safety|osv-scanner"
    r"|dependency-review-action|\btrivy\s+fs\b|trivy-action\b.*\bscan-type=fs\b"
    r"|\bgrype\s+dir:|\bsnyk\s+test\b|\bgovulncheck\b|\bnpm\s+audit\b"
    r"|\bcodectl\s+deps\s+scan\b"
)
SAST = re.compile(r"\b(bandit|semgrep)\b|codeql-action|sonarcloud-github-action|sonar-scanner")
IMAGE_SCAN = re.compile(
    r"\btrivy\s+image\b|trivy-action\b.*\bimage-ref=|\bgrype\s+(?!dir:)\S+|docker\s+scout\s+cves"
    r"|anchore/scan-action|snyk\s+container\b"
)
JOB_KINDS = {"lint": LINT, "test": TESTS, "security": SECURITY, "build": BUILD}
# `codectl ci --stage S` runs stage S of the pipeline in code.yaml (docs/pipeline.md), and a
# bare `codectl ci` every stage: each counts as the job kind of the same name.
_EVERY_STAGE = r"\bcodectl\s+ci(?![^\n]*\s--st(?:age|ep)\b)(?:\s+-\S+(?:\s+[^-\s]\S*)?)*\s*$"
JOB_KINDS = {
    kind: re.compile(rf"{pattern.pattern}|\bcodectl\s+ci\b.*\s--stage[= ]{kind}\b|{_EVERY_STAGE}")
    for kind, pattern in JOB_KINDS.items()
}
TESTS = JOB_KINDS["test"]


def first_match(commands: Iterable[Command], pattern: re.Pattern[str]) -> Evidence | None:
    """Evidence of the first command matching `pattern`."""
    for command in commands:
        match = pattern.search(command.text)
        if match:
            return Evidence(command.file, command.line, f"job {command.job}: {match.group(0)}")
    return None
