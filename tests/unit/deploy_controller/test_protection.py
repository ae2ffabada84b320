"""Protection rules of code.yaml: deployers, requires_previous, approval."""

from __future__ import annotations

import pytest

from code_engine.auth.roles import Binding, Role
from code_engine.deploy.protection import (
    NotADeployerError,
    ProtectionError,
    SelfApprovalError,
    check_approver,
    check_deployer,
    check_previous,
    may_deploy,
)
from code_engine.spec import Protection

DEPLOYER_PROD = frozenset({Binding(Role.deployer, "prod")})


def test_empty_deployers_allow_every_deployer() -> None:
    assert may_deploy(Protection(), "anyone", frozenset())


@pytest.mark.parametrize(
    ("name", "bindings", "allowed"),
    [
        ("release-bot", frozenset(), True),
        ("alice", frozenset({Binding(Role.admin)}), True),
        ("bob", DEPLOYER_PROD, True),
        ("carol", frozenset({Binding(Role.deployer, "staging")}), False),
        ("dave", frozenset({Binding(Role.deployer)}), False),
    ],
)
def test_deployers_name_principals_roles_or_bindings(
    name: str, bindings: frozenset[Binding], allowed: bool
) -> None:
    rules = Protection(deployers=["release-bot", "admin", "deployer:prod"])
    assert may_deploy(rules, name, bindings) is allowed
    if not allowed:
        with pytest.raises(NotADeployerError, match="may not deploy to 'prod'"):
            check_deployer(rules, "prod", name, bindings)


def test_requires_previous() -> None:
    rules = Protection(requires_previous=True)
    check_previous(rules, "prod", "1.0", "staging", passed_previous=True)
    check_previous(rules, "dev", "1.0", None, passed_previous=False)
    check_previous(Protection(), "prod", "1.0", "staging", passed_previous=False)
    with pytest.raises(ProtectionError, match="only takes a release that succeeded in 'staging'"):
        check_previous(rules, "prod", "1.0", "staging", passed_previous=False)


def test_a_second_person_who_may_deploy_approves() -> None:
    rules = Protection(approval=True, deployers=["admin", "deployer:prod"])
    check_approver(rules, "prod", "bob", "alice", DEPLOYER_PROD)
    check_approver(Protection(approval=True), "prod", "bob", "alice", frozenset())
    with pytest.raises(SelfApprovalError, match="a second person must approve it"):
        check_approver(rules, "prod", "alice", "alice", DEPLOYER_PROD)
    staging = frozenset({Binding(Role.deployer, "staging")})
    with pytest.raises(NotADeployerError, match="may not deploy to 'prod'"):
        check_approver(rules, "prod", "carol", "alice", staging)
