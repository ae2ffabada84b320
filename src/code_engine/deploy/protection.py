"""An environment's protection from `code.yaml`: who may deploy, and what must pass first."""

from __future__ import annotations

from collections.abc import Iterable

from code_engine.auth.roles import Binding
from code_engine.errors import CodeError, ConflictError
from code_engine.spec import Protection


class NotADeployerError(CodeError):
    """The principal holds the role but is not among the environment's `deployers`."""


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


def check_approval(protection: Protection, environment: str) -> None:
    """Approvals are not implemented: refuse rather than deploy without one."""
    if protection.approval:
        raise ProtectionError(
            f"{environment!r} requires an approval, which this version of CODE cannot "
            "collect yet; remove protection.approval or deploy through your review tool"
        )
