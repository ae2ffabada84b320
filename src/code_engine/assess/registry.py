"""Every check, in category order: the one list the engine, the docs and SARIF rules read."""

from __future__ import annotations

from code_engine.assess.checks import (
    containers,
    deployment,
    development,
    infrastructure,
    integration,
    observability,
    recovery,
    review,
    scorecard,
    security,
    source_control,
)
from code_engine.assess.model import Category, Check

CHECKS: tuple[Check, ...] = (
    *source_control.CHECKS,
    *scorecard.SOURCE_CONTROL_CHECKS,
    *review.CHECKS,
    *development.CHECKS,
    *integration.CHECKS,
    *deployment.CHECKS,
    *infrastructure.CHECKS,
    *containers.CHECKS,
    *observability.CHECKS,
    *security.CHECKS,
    *scorecard.SECURITY_CHECKS,
    *recovery.CHECKS,
)
BY_ID: dict[str, Check] = {check.id: check for check in CHECKS}
PREFIXES: dict[str, Category] = {
    "scm": Category.SOURCE_CONTROL,
    "dev": Category.DEVELOPMENT_ENVIRONMENT,
    "ci": Category.CONTINUOUS_INTEGRATION,
    "cd": Category.CONTINUOUS_DEPLOYMENT,
    "iac": Category.INFRASTRUCTURE_AS_CODE,
    "ctr": Category.CONTAINERS,
    "obs": Category.OBSERVABILITY,
    "sec": Category.SECURITY,
    "dr": Category.DISASTER_RECOVERY,
}


def checks_of(category: Category) -> tuple[Check, ...]:
    return tuple(check for check in CHECKS if check.category is category)


def category_named(name: str) -> Category | None:
    """A category by its id (`security`), its check prefix (`sec`) or a unique id prefix."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key in PREFIXES:
        return PREFIXES[key]
    matches = [c for c in Category if c.value == key or c.value.startswith(key)]
    return matches[0] if len(matches) == 1 else None
