"""An environment of the promotion chain: where it runs, who may deploy, how it rolls out."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

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
    timezone: TimeZoneName = Field(
        default="UTC",
        description="IANA time zone of the environment's change windows: policies get the "
        "time in it (e.g. `Europe/Paris`).",
    )
