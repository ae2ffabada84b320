"""The `pipeline:` section of `code.yaml`: the steps of `codectl ci` beside the defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from code_engine.spec.base import NonBlank, SpecModel, rule_error
from code_engine.spec.workflow import GithubWorkflow

Stage = Literal["lint", "test", "security", "build"]
ReportKind = Literal[
    "coverage", "junit", "sarif", "complexity", "duplication", "dependencies", "secrets"
]
STEP_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


class PipelineStep(SpecModel):
    """One command of the pipeline, with the files it reads and writes."""

    name: str = Field(
        pattern=STEP_NAME_PATTERN,
        description="Unique name of the step; a default step of the same name is replaced.",
    )
    stage: Stage = Field(description="lint, test, security or build.")
    run: list[NonBlank] = Field(
        min_length=1,
        description="The command as an argument list, run from the repository's root without "
        "a shell; the first item is the tool, looked up in `.venv/bin` and then on `PATH`.",
    )
    inputs: list[NonBlank] = Field(
        default=["**/*"],
        description="Globs of the files the step reads (relative to the repository); their "
        "contents are part of the step's cache key.",
    )
    outputs: list[NonBlank] = Field(
        default=[],
        description="Globs of the files the step writes; restored from the cache on a hit.",
    )
    reports: dict[ReportKind, NonBlank] = Field(
        default={},
        description="Machine-readable reports the step writes, by kind; the quality gates "
        "read them.",
    )
    needs: list[str] = Field(default=[], description="Steps that must pass before this one.")
    after: list[str] = Field(
        default=[],
        description="Steps this one runs after, whatever their outcome (e.g. a coverage "
        "combination after the test steps, or test steps one after another); their cache "
        "keys are part of this step's.",
    )
    tools: list[NonBlank] = Field(
        default=[],
        description="Further executables whose versions key the cache (the command's own "
        "tool always does).",
    )
    env: dict[str, str] = Field(default={}, description="Extra environment variables.")
    env_inputs: list[NonBlank] = Field(
        default=[],
        description="Inherited environment variables (names, `*` matches any run of "
        "characters) whose values are part of the cache key, e.g. `CODE_TEST_*`.",
    )
    ok_exit_codes: list[int] = Field(
        default=[0],
        description="Exit codes that mean the step did its job (a scanner that exits 1 on "
        "findings leaves the verdict to the gates).",
    )
    engine: Literal["docker"] | None = Field(
        default=None,
        description="A container engine the step needs; where none answers, the step is "
        "skipped (never passed).",
    )
    cache: bool = Field(default=True, description="Replay an unchanged step from the cache.")


class Pipeline(SpecModel):
    """The stages `codectl ci` runs: the defaults for a Python service, plus these steps."""

    defaults: bool = Field(
        default=True,
        description="Start from the default steps (ruff, mypy, pytest, bandit, secrets, "
        "dependency scan, wheel and sdist, SBOM, image).",
    )
    skip: list[str] = Field(default=[], description="Default steps to leave out, by name.")
    steps: list[PipelineStep] = Field(
        default=[], description="Steps added to the defaults, or replacing one of the same name."
    )
    source: list[NonBlank] = Field(
        default=[],
        description="Directories of the code the default steps check; unset is `src` when "
        "it exists, else the repository's root.",
    )
    lock_file: str | None = Field(
        default=None,
        description="Lock file of the dependency scan; unset is the first of "
        "`requirements.lock`, `requirements.txt`.",
    )
    osv_db: str | None = Field(
        default=None,
        description="Directory of an OSV database for the dependency scan; unset is "
        "`$CODE_OSV_DB`, else osv.dev.",
    )
    jobs: int | None = Field(
        default=None, ge=1, description="Steps run at once; unset is the number of CPUs."
    )
    github: GithubWorkflow = Field(
        default=GithubWorkflow(),
        description="The workflow `codectl ci github` prints: runner, Python, setup, "
        "environment, services, further steps and uploads of each stage's job.",
    )

    @field_validator("steps")
    @classmethod
    def _unique_names(cls, steps: list[PipelineStep]) -> list[PipelineStep]:
        seen: set[str] = set()
        for index, step in enumerate(steps):
            if step.name in seen:
                raise rule_error(f"step {step.name!r} is defined twice", index, "name")
            seen.add(step.name)
        return steps
