"""An environment of the promotion chain: where it runs, who may deploy, how it rolls out."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from code_engine.spec.base import DnsLabel, NonBlank, SpecModel, rule_error
from code_engine.spec.secret_refs import SecretReferenceText
from code_engine.spec.strategy import Strategy
from code_engine.spec.targets import EnvName, LocalTarget, Target


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


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone", "{name} is not an IANA time zone, e.g. Europe/Paris", {"name": repr(name)}
        ) from None
    return name


TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]


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
    secrets: dict[EnvName, SecretReferenceText] = Field(
        default={},
        description="Environment variables whose values come from a secret store, resolved "
        "when each instance starts and never stored by CODE: `vault://MOUNT/PATH#KEY` (KV v2 "
        "on Vault or OpenBao), `env://NAME` (the worker's environment) or `file:///path` (a "
        "mounted file). On Kubernetes they become ExternalSecret objects. See docs/secrets.md.",
        examples=[{"DATABASE_URL": "vault://secret/shop/db#url"}],
        json_schema_extra={"additionalProperties": False},
    )

    @model_validator(mode="after")
    def _secrets_apart_from_env(self) -> Environment:
        if isinstance(self.target, LocalTarget):
            for name in self.secrets:
                if name in self.target.env:
                    raise rule_error(
                        f"{name} is both a plain env value and a secret: keep it in secrets",
                        "secrets",
                        name,
                    )
        return self

    @property
    def requires_pipeline(self) -> bool:
        """`protection.requires_pipeline`, or its default: true for `prod` only."""
        required = self.protection.requires_pipeline
        return self.name == "prod" if required is None else required

    timezone: TimeZoneName = Field(
        default="UTC",
        description="IANA time zone of the environment's change windows: policies get the "
        "time in it (e.g. `Europe/Paris`).",
    )
