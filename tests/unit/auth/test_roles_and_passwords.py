from __future__ import annotations

import pytest

from code_engine.auth.passwords import hash_secret, new_secret, verify_secret
from code_engine.auth.roles import Binding, Role, allows
from code_engine.errors import UserError


def test_role_order_and_scoping() -> None:
    staging_deployer = frozenset({Binding(Role.deployer, "staging")})
    assert allows(staging_deployer, Role.developer, "staging")
    assert allows(staging_deployer, Role.deployer, "staging")
    assert not allows(staging_deployer, Role.deployer, "prod")
    assert not allows(staging_deployer, Role.deployer, None)
    assert allows(frozenset({Binding(Role.admin)}), Role.deployer, "prod")
    assert not allows(frozenset({Binding(Role.viewer)}), Role.developer)


def test_binding_parse_and_render() -> None:
    assert Binding.parse("deployer:staging") == Binding(Role.deployer, "staging")
    assert Binding.parse("admin").render() == "admin"
    assert Binding(Role.viewer, "dev").render() == "viewer:dev"
    with pytest.raises(UserError, match="unknown role 'root'"):
        Binding.parse("root")


def test_secret_hashing() -> None:
    secret = new_secret()
    hashed = hash_secret(secret)
    assert secret not in hashed
    assert verify_secret(hashed, secret)
    assert not verify_secret(hashed, secret + "x")
    assert not verify_secret(None, secret)
    assert not verify_secret("not-a-hash", secret)
