"""The root of `code.yaml`: one service and its promotion chain of environments."""

from __future__ import annotations

from pydantic import Field, field_validator

from code_engine.errors import NotFoundError
from code_engine.spec.backup import Backup
from code_engine.spec.base import DnsLabel, NonBlank, SpecModel, rule_error
from code_engine.spec.environment import Environment
from code_engine.spec.pipeline import Pipeline
from code_engine.spec.policies import PolicyBundle
from code_engine.spec.quality import QualityGates, Slos
from code_engine.spec.strategy import AllAtOnceStrategy, Strategy


class ServiceSpec(SpecModel):
    """A service as CODE delivers it: where it comes from, where it runs, what it promises."""

    service: DnsLabel = Field(description="Name of the service, e.g. `code-engine`.")
    repo: NonBlank = Field(
        description="Git repository of the service: a URL or a local path.",
        examples=["https://github.com/acme/shop.git", "."],
    )
    description: str | None = Field(default=None, description="One line about the service.")
    environments: list[Environment] = Field(
        min_length=1,
        description="Environments in promotion order: a release moves from each to the next.",
    )
    rollout: Strategy = Field(
        default=AllAtOnceStrategy(kind="all_at_once"),
        description="Rollout strategy of every environment that sets none.",
    )
    slos: Slos = Field(default=Slos(), description="Service level objectives.")
    quality_gates: QualityGates = Field(
        default=QualityGates(), description="Thresholds of the quality pipeline."
    )
    pipeline: Pipeline = Field(
        default=Pipeline(), description="Steps of the quality pipeline (`codectl ci`)."
    )
    backup: Backup | None = Field(
        default=None, description="Scheduled backups; unset means the service keeps no data."
    )
    policies: list[PolicyBundle] = Field(
        default=[],
        description="Rego policies asked before every deployment, promotion, rollback, abort, "
        "approval and release of this service (docs/policy.md).",
    )

    @field_validator("environments")
    @classmethod
    def _check_chain(cls, environments: list[Environment]) -> list[Environment]:
        seen: set[str] = set()
        for index, environment in enumerate(environments):
            if environment.name in seen:
                raise rule_error(
                    f"environment {environment.name!r} is defined twice", index, "name"
                )
            seen.add(environment.name)
        if environments[0].protection.requires_previous:
            raise rule_error(
                "the first environment has no previous one to require",
                0,
                "protection",
                "requires_previous",
            )
        return environments

    @property
    def environment_names(self) -> list[str]:
        """Environment names in promotion order."""
        return [environment.name for environment in self.environments]

    def environment(self, name: str) -> Environment:
        """The environment called `name`; NotFoundError lists the known ones."""
        for environment in self.environments:
            if environment.name == name:
                return environment
        known = ", ".join(self.environment_names)
        raise NotFoundError(f"service {self.service} has no environment {name!r} (has: {known})")

    def previous_environment(self, name: str) -> Environment | None:
        """The environment a release must pass before `name`, None for the first one."""
        index = self.environments.index(self.environment(name))
        return self.environments[index - 1] if index else None

    def strategy_for(self, name: str) -> Strategy:
        """The rollout strategy of environment `name`: its own, or the top-level one."""
        return self.environment(name).strategy or self.rollout
