"""The default steps of a Python service: the seed's lint, test, security and build stages."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from code_engine.pipeline.model import Step
from code_engine.pipeline.pytest_steps import PYTHON, REPORTS, default_test_steps

LOCK_FILES = ("requirements.lock", "requirements.txt")


def default_steps(
    repo: Path,
    service: str,
    source: tuple[str, ...] = (),
    lock_file: str | None = None,
    osv_db: str | None = None,
) -> list[Step]:
    """Every default step for the repository at `repo`, as it is configured today."""
    source = source or (("src",) if (repo / "src").is_dir() else (".",))
    tool_config = _tool_config(repo)
    return [
        *_lint(repo, source, tool_config),
        *default_test_steps(repo, source),
        *_security(repo, source, tool_config, lock_file, osv_db),
        *_build(repo, service, lock_file),
    ]


def _tool_config(repo: Path) -> dict[str, object]:
    try:
        data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    tool = data.get("tool", {})
    return tool if isinstance(tool, dict) else {}


def _configures(repo: Path, tool_config: dict[str, object], name: str, *files: str) -> bool:
    if name in tool_config:
        return True
    if any((repo / file).is_file() for file in files):
        return True
    setup_cfg = repo / "setup.cfg"
    return setup_cfg.is_file() and f"[{name}]" in setup_cfg.read_text(encoding="utf-8")


def _lint(repo: Path, source: tuple[str, ...], tool_config: dict[str, object]) -> list[Step]:
    ruff_inputs = (*PYTHON, "ruff.toml", ".ruff.toml")
    steps = [
        Step("ruff", "lint", ("ruff", "check", *source), inputs=ruff_inputs),
        Step("ruff-format", "lint", ("ruff", "format", "--check", *source), inputs=ruff_inputs),
        Step("mypy", "lint", ("mypy", *source), inputs=(*PYTHON, "mypy.ini", ".mypy.ini")),
        Step(
            "complexity",
            "lint",
            # every function with its complexity: the gate, not ruff's own limit, judges
            (
                "ruff", "check", "--select", "C901", "--config", "lint.mccabe.max-complexity=0",
                "--output-format", "json", "--output-file", f"{REPORTS}/complexity.json",
                "--exit-zero", *source,
            ),
            inputs=ruff_inputs,
            outputs=(f"{REPORTS}/complexity.json",),
            reports=(("complexity", f"{REPORTS}/complexity.json"),),
        ),
        Step(
            "duplication",
            "lint",
            ("codectl", "ci", "duplication", *source, "--report", f"{REPORTS}/duplication.json"),
            inputs=("**/*.py",),
            outputs=(f"{REPORTS}/duplication.json",),
            reports=(("duplication", f"{REPORTS}/duplication.json"),),
        ),
    ]  # fmt: skip
    if _configures(repo, tool_config, "black"):
        steps.append(Step("black", "lint", ("black", "--check", *source), inputs=PYTHON))
    if _configures(repo, tool_config, "isort", ".isort.cfg"):
        steps.append(
            Step(
                "isort", "lint", ("isort", "--check-only", *source), inputs=(*PYTHON, ".isort.cfg")
            )
        )
    if _configures(repo, tool_config, "flake8", ".flake8", "tox.ini"):
        steps.append(Step("flake8", "lint", ("flake8", *source), inputs=(*PYTHON, ".flake8")))
    return steps


def _security(
    repo: Path,
    source: tuple[str, ...],
    tool_config: dict[str, object],
    lock_file: str | None,
    osv_db: str | None,
) -> list[Step]:
    config = ("-c", "pyproject.toml") if "bandit" in tool_config else ()
    sarif = f"{REPORTS}/bandit.sarif"
    steps = [
        Step(
            "bandit",
            "security",
            ("bandit", "-q", "-r", *source, *config, "-f", "sarif", "-o", sarif, "--exit-zero"),
            inputs=PYTHON,
            outputs=(sarif,),
            reports=(("sarif", sarif),),
        ),
        Step(
            "secrets",
            "security",
            ("codectl", "ci", "secrets", "--report", f"{REPORTS}/secrets.json"),
            inputs=("**/*",),
            outputs=(f"{REPORTS}/secrets.json",),
            reports=(("secrets", f"{REPORTS}/secrets.json"),),
            tools=("detect-secrets",),
        ),
    ]
    lock = lock_file or next((name for name in LOCK_FILES if (repo / name).is_file()), None)
    if lock is not None:
        database = osv_db or os.environ.get("CODE_OSV_DB")
        report = f"{REPORTS}/dependencies.json"
        db_args = ("--osv-db", database) if database else ()
        steps.append(
            Step(
                "dependencies",
                "security",
                ("codectl", "deps", "scan", "--lock", lock, *db_args, "-o", "json",
                 "--report", report),
                inputs=(lock,),
                outputs=(report,),
                reports=(("dependencies", report),),
                ok_exit_codes=(0, 1),  # 1: vulnerabilities found; the gates judge them
                # without a local database the advisories change under the same inputs
                cache=database is not None,
                tools=(f"dir:{database}",) if database else (),
            )
        )  # fmt: skip
    return steps


def _build(repo: Path, service: str, lock_file: str | None) -> list[Step]:
    steps = [
        Step(
            "dist",
            "build",
            ("pyproject-build", "--outdir", "build/dist", "."),
            inputs=("**/*",),
            outputs=("build/dist/*",),
        ),
    ]
    lock = lock_file or next((name for name in LOCK_FILES if (repo / name).is_file()), None)
    sbom = f"{REPORTS}/sbom.cdx.json"
    source = ("requirements", lock) if lock else ("environment",)
    steps.append(
        Step(
            "sbom",
            "build",
            ("cyclonedx-py", *source, "--output-format", "JSON", "--output-file", sbom),
            inputs=(lock,) if lock else ("pyproject.toml",),
            outputs=(sbom,),
        )
    )
    if (repo / "Dockerfile").is_file():
        steps.append(
            Step(
                "image",
                "build",
                ("docker", "build", "-t", f"{service}:ci", "."),
                inputs=("**/*",),
                engine="docker",
                cache=False,
            )
        )
    return steps
