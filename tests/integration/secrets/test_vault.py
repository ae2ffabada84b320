"""The vault:// backend against a real OpenBao dev server: token and AppRole logins, and
every failure naming the reference, never the value."""

from __future__ import annotations

import pytest
from tests.support.network import free_port
from tests.support.openbao import OpenBao

from code_engine.secrets.errors import DENIED, INVALID, MISSING, UNREACHABLE, SecretError
from code_engine.secrets.resolver import SecretResolver
from code_engine.secrets.vault import VaultBackend, VaultConfig
from code_engine.spec.secret_refs import parse_reference

VALUE = "vault-canary-7f3a9c-password"  # pragma: allowlist secret


@pytest.fixture(scope="module")
def stored(bao: OpenBao) -> str:
    bao.put("shop/db", password=VALUE, user="shop")
    return "vault://secret/shop/db#password"


def _read(config: VaultConfig, reference: str) -> str:
    return VaultBackend(config).resolve(parse_reference(reference))


def test_token_login_reads_a_kv2_key(bao: OpenBao, stored: str) -> None:
    assert _read(VaultConfig(bao.address, token=bao.token()), stored) == VALUE


def test_approle_login_reads_a_kv2_key(bao: OpenBao, stored: str) -> None:
    config = VaultConfig(bao.address, role_id=bao.role_id, secret_id=bao.secret_id)
    resolver = SecretResolver({"vault": VaultBackend(config)}, remember=lambda _values: None)
    assert resolver.resolve({"DB_PASSWORD": stored, "DB_USER": "vault://secret/shop/db#user"}) == {
        "DB_PASSWORD": VALUE,
        "DB_USER": "shop",
    }


def test_a_rotated_value_is_read_at_the_next_resolution(bao: OpenBao) -> None:
    backend = VaultBackend(VaultConfig(bao.address, token=bao.token()))
    bao.put("shop/rotating", key="one-value")
    assert backend.resolve(parse_reference("vault://secret/shop/rotating#key")) == "one-value"
    bao.put("shop/rotating", key="two-value")
    assert backend.resolve(parse_reference("vault://secret/shop/rotating#key")) == "two-value"


@pytest.mark.parametrize(
    ("reference", "kind", "says"),
    [
        ("vault://secret/shop/nothing#password", MISSING, "no such secret"),
        ("vault://secret/shop/db#nokey", MISSING, "the secret has no key 'nokey'"),
        ("vault://nomount/shop/db#password", DENIED, "permission denied"),
    ],
)
def test_missing_and_denied(
    bao: OpenBao, stored: str, reference: str, kind: str, says: str
) -> None:
    assert stored
    with pytest.raises(SecretError) as caught:
        _read(VaultConfig(bao.address, token=bao.token()), reference)
    assert caught.value.kind == kind
    assert str(caught.value).startswith(f"secret {reference}: ")
    assert says in str(caught.value)
    assert VALUE not in str(caught.value)


def test_a_token_without_the_policy_is_denied(bao: OpenBao, stored: str) -> None:
    with pytest.raises(SecretError) as caught:
        _read(VaultConfig(bao.address, token=bao.token("default")), stored)
    assert caught.value.kind == DENIED
    assert "permission denied to CODE's token login" in str(caught.value)


def test_a_wrong_approle_secret_is_denied(bao: OpenBao, stored: str) -> None:
    config = VaultConfig(bao.address, role_id=bao.role_id, secret_id="not-the-secret-id")
    with pytest.raises(SecretError) as caught:
        _read(config, stored)
    assert caught.value.kind == DENIED
    assert "approle" in str(caught.value)


def test_an_unreachable_store_and_missing_settings(stored: str) -> None:
    config = VaultConfig(f"http://127.0.0.1:{free_port()}", token="x", timeout=2)
    with pytest.raises(SecretError) as caught:
        _read(config, stored)
    assert caught.value.kind == UNREACHABLE
    assert str(caught.value).startswith(f"secret {stored}: the store at http://127.0.0.1:")
    with pytest.raises(SecretError) as unset:
        _read(VaultConfig(""), stored)
    assert unset.value.kind == INVALID and "CODE_VAULT_ADDR is not set" in str(unset.value)
