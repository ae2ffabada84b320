"""An environment of the promotion chain: where it runs, who may deploy, how it rolls out."""

from __future__ import annotations

from pydantic import Field

from code_engine.spec.base import DnsLabel, NonBlank, SpecModel
from code_engine.spec.strategy import Strategy
from code_engine.spec.targets import Target


class Protection(SpecModel):
    """Who may deploy to an environment and what must happen first."""

    deployers: list[NonBlank] = Field(
        default=[],
        description="Roles or principals allowed to deploy here; empty allows anyone with "
        "the deployer role.",
    )
    requires_previous: bool = Field(
        default=False,
        description="Deploy only a release that succeeded in the previous environment.",
    )
    approval: bool = Field(
        default=False, description="A second person must approve each deployment."
    )
    requires_pipeline: bool | None = Field(
        default=None,
        description="Deploy only a qualified release: its commit has a passing recorded "
        "pipeline run. Unset: true for an environment named `prod`, false otherwise.",
    )


class Environment(SpecModel):
    """One stage of the promotion chain, e.g. dev, staging or prod."""

    name: DnsLabel = Field(description="Unique name, e.g. `staging`.")
    target: Target = Field(description="Where the service runs in this environment.")
    protection: Protection = Field(
        default=Protection(), description="Rules a deployment must satisfy."
    )
    strategy: Strategy | None = Field(
        default=None, description="Rollout strategy here; unset uses the top-level `rollout`."
    )

    @property
    def requires_pipeline(self) -> bool:
        """`protection.requires_pipeline`, or its default: true for `prod` only."""
        required = self.protection.requires_pipeline
        return self.name == "prod" if required is None else required
