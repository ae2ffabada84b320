"""How a release replaces the previous one: canary steps, blue-green, or all at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from code_engine.spec.base import SpecModel, rule_error
from code_engine.spec.duration import Duration, PositiveDuration


class Analysis(SpecModel):
    """Measure the new release against the service's SLOs before going further."""

    interval: PositiveDuration = Field(
        default=timedelta(minutes=1), description="Time between two measurements."
    )
    count: int = Field(default=5, ge=1, description="Number of measurements to take.")
    failure_limit: int = Field(
        default=0,
        ge=0,
        description="Failed measurements tolerated; one more fails the analysis and rolls back.",
    )
    inconclusive_limit: int = Field(
        default=0,
        ge=0,
        description="Inconclusive measurements tolerated; one more pauses the rollout for a "
        "person to decide.",
    )
    min_requests: int = Field(
        default=100,
        ge=0,
        description="Requests a measurement needs to count; fewer make it inconclusive "
        "(a window where requests hang and none is answered fails whatever its size).",
    )
    inconclusive_timeout: PositiveDuration | None = Field(
        default=timedelta(minutes=10),
        description="How long a rollout paused on an inconclusive analysis waits for a "
        "person (`codectl resume` or `codectl abort`) before it rolls back; `null` waits "
        "for ever. Meanwhile the canary keeps its weight only while its traffic does not fail.",
    )

    @model_validator(mode="after")
    def _limits_below_count(self) -> Analysis:
        # a limit that reaches `count` can never be exceeded, so the analysis could never fail
        for name in ("failure_limit", "inconclusive_limit"):
            if getattr(self, name) >= self.count:
                raise rule_error(f"{name} must be lower than count ({self.count})", name)
        return self


class Pause(SpecModel):
    """Hold the rollout, for a while or until someone resumes it."""

    duration: PositiveDuration | None = Field(
        default=None, description="How long to wait; unset waits for `codectl resume`."
    )


class SetWeightStep(SpecModel):
    """Send this percentage of requests to the new release."""

    set_weight: int = Field(ge=0, le=100, description="Percentage of traffic, 0-100.")


class PauseStep(SpecModel):
    """Wait before the next step."""

    pause: Pause = Field(
        description="How long to wait: `{duration: 30s}`, or `{}` to wait until resumed."
    )


class AnalysisStep(SpecModel):
    """Measure the canary before the next step."""

    analysis: Analysis = Field(description="The measurements to take.")


_STEP_TAGS = {"set_weight": "SetWeightStep", "pause": "PauseStep", "analysis": "AnalysisStep"}


def _step_tag(value: Any) -> str | None:
    """The step's model, told apart by its single key."""
    if isinstance(value, dict) and len(value) == 1:
        return _STEP_TAGS.get(next(iter(value)))
    if isinstance(value, SpecModel):
        return type(value).__name__
    return None


CanaryStep = Annotated[
    Annotated[SetWeightStep, Tag("SetWeightStep")]
    | Annotated[PauseStep, Tag("PauseStep")]
    | Annotated[AnalysisStep, Tag("AnalysisStep")],
    Discriminator(
        _step_tag,
        custom_error_type="canary_step",
        custom_error_message="a step has exactly one key: set_weight, pause or analysis",
    ),
]


class CanaryStrategy(SpecModel):
    """Shift traffic to the new release step by step; the end of the steps means 100 %."""

    kind: Literal["canary"] = Field(description="Selects this strategy.")
    steps: list[CanaryStep] = Field(
        min_length=1,
        description="Steps run in order; after the last one the release gets all traffic.",
    )

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, steps: list[CanaryStep]) -> list[CanaryStep]:
        weight = 0
        for index, step in enumerate(steps):
            if isinstance(step, SetWeightStep):
                if step.set_weight < weight:
                    raise rule_error(
                        f"weight {step.set_weight} is lower than the {weight} before it; "
                        "canary weights must not decrease",
                        index,
                        "set_weight",
                    )
                weight = step.set_weight
            elif isinstance(step, AnalysisStep) and weight == 0:
                raise rule_error(
                    "analysis before any traffic reaches the canary; add a set_weight above 0 "
                    "before it",
                    index,
                    "analysis",
                )
        return steps


class BlueGreenStrategy(SpecModel):
    """Start the new release next to the old one, then switch all traffic at once."""

    kind: Literal["blue_green"] = Field(description="Selects this strategy.")
    preview_duration: Duration | None = Field(
        default=None,
        description="How long the new release serves only preview traffic before promotion.",
    )
    analysis: Analysis | None = Field(
        default=None, description="Measurements taken on the preview before promotion."
    )
    auto_promote: bool = Field(
        default=True,
        description="Promote once preview and analysis pass; false waits for `codectl resume`.",
    )
    scale_down_delay: Duration = Field(
        default=timedelta(seconds=30),
        description="How long the old release keeps running after the switch, for a fast rollback.",
    )


class AllAtOnceStrategy(SpecModel):
    """Replace every instance at once once the new release is healthy; suits dev."""

    kind: Literal["all_at_once"] = Field(description="Selects this strategy.")


Strategy = Annotated[
    CanaryStrategy | BlueGreenStrategy | AllAtOnceStrategy, Field(discriminator="kind")
]
"""One of the rollout strategies, chosen by `kind`."""
