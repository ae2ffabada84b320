"""An environment's protection from `code.yaml`: who may deploy or approve, and what must
pass first."""

from __future__ import annotations

from collections.abc import Iterable

from code_engine.auth.roles import Binding
from code_engine.errors import CodeError, ConflictError
from code_engine.pipeline.evidence import Qualification
from code_engine.spec import Protection


class NotADeployerError(CodeError):
    """The principal holds the role but is not among the environment's `deployers`."""


class SelfApprovalError(CodeError):
    """Four eyes: whoever asked for a deployment cannot also approve it."""


class UnqualifiedReleaseError(CodeError):
    """The environment requires a pipeline and the release's commit has no passing run."""


class ProtectionError(ConflictError):
    """The deployment breaks a rule of the environment's protection."""


def may_deploy(protection: Protection, principal: str, bindings: Iterable[Binding]) -> bool:
    """True when `deployers` is empty or names the principal, one of its roles
    (`deployer`, `admin`) or one of its bindings (`deployer:prod`)."""
    allowed = set(protection.deployers)
    if not allowed or principal in allowed:
        return True
    return any(b.role.name in allowed or b.render() in allowed for b in bindings)


def check_deployer(
    protection: Protection, environment: str, principal: str, bindings: Iterable[Binding]
) -> None:
    """Raise NotADeployerError unless the principal may deploy to `environment`."""
    if not may_deploy(protection, principal, bindings):
        allowed = ", ".join(protection.deployers)
        raise NotADeployerError(
            f"{principal!r} may not deploy to {environment!r}: code.yaml allows {allowed}"
        )


def check_previous(
    protection: Protection,
    environment: str,
    version: str,
    previous: str | None,
    passed_previous: bool,
) -> None:
    """Raise ProtectionError when `requires_previous` holds and the release did not pass
    the previous environment."""
    if protection.requires_previous and previous is not None and not passed_previous:
        raise ProtectionError(
            f"{environment!r} only takes a release that succeeded in {previous!r}; "
            f"{version} has not: deploy it to {previous} first (codectl promote {previous} "
            f"{environment})"
        )


def check_approver(
    protection: Protection,
    environment: str,
    approver: str,
    requester: str,
    bindings: Iterable[Binding],
) -> None:
    """Raise unless `approver` may approve a deployment `requester` asked for: someone who
    may deploy there (NotADeployerError), and not the requester (SelfApprovalError)."""
    check_deployer(protection, environment, approver, bindings)
    if approver == requester:
        raise SelfApprovalError(
            f"{approver!r} requested this deployment: a second person must approve it "
            f"(another deployer of {environment!r})"
        )


def check_pipeline(environment: str, version: str, qualification: Qualification) -> None:
    """Raise UnqualifiedReleaseError unless the release is qualified (for an environment
    with `requires_pipeline`); the message names the failed gates, or the missing run."""
    if not qualification.qualified:
        raise UnqualifiedReleaseError(
            f"{environment!r} requires a passing pipeline (protection.requires_pipeline): "
            f"release {version} is not qualified: {qualification.reason}"
        )
