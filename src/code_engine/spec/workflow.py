"""`pipeline.github`: what the workflow of `codectl ci github` needs beyond the stages.

The runner, the Python version, the commands that prepare a job (system packages, services),
its environment, and further steps and uploads. Actions are pinned by full commit SHA and the
workflow's token is read-only unless a job asks for more, so the generated file passes the
Pinned-Dependencies, Token-Permissions and Dangerous-Workflow checks.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from code_engine.spec.base import NonBlank, SpecModel, matching, pattern_schema, rule_error

Stage = Literal["lint", "test", "security", "build"]
PINNED_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

PinnedAction = Annotated[
    str,
    matching(
        PINNED_PATTERN,
        "unpinned_action",
        "{value} is not pinned: write owner/repo@<full 40-character commit SHA>",
    ),
    pattern_schema(PINNED_PATTERN),
]
EnvName = Annotated[
    str,
    matching(ENV_NAME_PATTERN, "env_name", "{value} is not an environment variable name"),
    pattern_schema(ENV_NAME_PATTERN),
]
Permission = Literal["read", "write", "none"]
WithValue = str | int | bool


class WorkflowStep(SpecModel):
    """A step of a job: a command (`run`) or an action pinned by commit (`uses`)."""

    name: NonBlank | None = Field(default=None, description="What the step does, as shown.")
    if_: NonBlank | None = Field(
        default=None, alias="if", description="GitHub expression that decides whether it runs."
    )
    uses: PinnedAction | None = Field(
        default=None, description="An action, `owner/repo@<full commit SHA>`."
    )
    version: NonBlank | None = Field(
        default=None, description="The action's release the SHA stands for (a comment)."
    )
    with_: dict[str, WithValue] = Field(
        default={}, alias="with", description="The action's inputs."
    )
    env: dict[EnvName, str] = Field(default={}, description="Environment of the step.")
    run: NonBlank | None = Field(default=None, description="Shell commands.")

    @model_validator(mode="after")
    def _one_kind(self) -> WorkflowStep:
        if (self.uses is None) == (self.run is None):
            raise rule_error("a step has exactly one of `run` and `uses`")
        if self.run is not None and (self.with_ or self.version):
            raise rule_error("`with` and `version` belong to a `uses` step", "with")
        return self


class Upload(SpecModel):
    """An artifact uploaded after the stage, whatever its outcome."""

    name: NonBlank = Field(description="Name of the artifact.")
    path: NonBlank = Field(description="File, glob or directory to upload.")


class Service(SpecModel):
    """A service container of the job (e.g. a database for the tests)."""

    image: NonBlank = Field(description="Container image, e.g. `postgres:15`.")
    env: dict[EnvName, str] = Field(default={}, description="Environment of the container.")
    ports: list[NonBlank] = Field(default=[], description="Published ports, `host:container`.")
    options: NonBlank | None = Field(default=None, description="`docker create` options.")


class WorkflowJob(SpecModel):
    """The job of one stage."""

    run: NonBlank | None = Field(
        default=None,
        description="The command that runs the stage; unset is `codectl ci --stage STAGE`.",
    )
    title: NonBlank | None = Field(
        default=None, description="How the stage's step is shown; unset: its command."
    )
    needs: list[Stage] | None = Field(
        default=None, description="Jobs it waits for; unset is the previous stage's job."
    )
    timeout_minutes: int | None = Field(default=None, ge=1, description="Job timeout.")
    fetch_depth: int | None = Field(
        default=None, ge=0, description="Commits checked out (0: the whole history)."
    )
    permissions: dict[NonBlank, Permission] = Field(
        default={},
        description="Token permissions of the job beyond `contents: read` (e.g. "
        "`packages: write`); a job that uploads SARIF gets `security-events: write`.",
    )
    env: dict[EnvName, str] = Field(default={}, description="Environment of the job.")
    services: dict[NonBlank, Service] = Field(default={}, description="Service containers.")
    setup: list[WorkflowStep] = Field(
        default=[], description="Steps after the checkout and Python, before the stage."
    )
    after: list[WorkflowStep] = Field(
        default=[], description="Steps after the stage (and its report uploads)."
    )
    uploads: list[Upload] = Field(
        default=[],
        description="Artifacts uploaded whatever the outcome, besides the JUnit and SARIF "
        "reports the stage's steps declare.",
    )


class GithubWorkflow(SpecModel):
    """The GitHub Actions workflow `codectl ci github` prints."""

    name: NonBlank = Field(default="CI", description="Name of the workflow.")
    runs_on: NonBlank = Field(default="ubuntu-24.04", description="Runner of every job.")
    python: NonBlank = Field(default="3.11", description="Python version of every job.")
    pip_cache: NonBlank | None = Field(
        default=None,
        description="File whose hash keys setup-python's pip cache (e.g. a lock file); "
        "unset: no cache.",
    )
    install: str = Field(
        default="python -m pip install -e '.[dev]' code-engine",
        description="Command that installs the service and its tools in every job; empty: "
        "none (the stage's command installs them, e.g. a make target).",
    )
    env: dict[EnvName, str] = Field(default={}, description="Environment of every job.")
    jobs: dict[Stage, WorkflowJob] = Field(default={}, description="Settings of each job.")

    @model_validator(mode="after")
    def _known_needs(self) -> GithubWorkflow:
        for stage, job in self.jobs.items():
            for index, need in enumerate(job.needs or []):
                if need == stage:
                    raise rule_error(f"job {stage!r} cannot wait for itself", "jobs", stage,
                                     "needs", index)  # fmt: skip
        return self
