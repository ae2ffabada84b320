"""ExternalSecret objects rendered from an environment's secrets, valid against the CRD."""

from __future__ import annotations

import pytest

from code_engine.errors import ConfigError
from code_engine.secrets.external import StoreRef, render_external_secret, validate_external_secret

SECRETS = {
    "DATABASE_URL": "vault://secret/code/prod/db#url",
    "API_TOKEN": "vault://kv/code/api#token",
}


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_the_rendering_is_valid_against_the_crd_schema(version: str) -> None:
    store = StoreRef("openbao", "SecretStore")
    document = render_external_secret(
        "code-engine", "prod", "code-prod", SECRETS, store=store, version=version
    )
    assert document is not None
    assert validate_external_secret(document) == []
    assert document["apiVersion"] == f"external-secrets.io/{version}"
    assert document["spec"]["secretStoreRef"] == {"name": "openbao", "kind": "SecretStore"}
    assert document["spec"]["data"] == [
        {
            "secretKey": "API_TOKEN",  # pragma: allowlist secret
            "remoteRef": {"key": "kv/code/api", "property": "token"},
        },
        {
            "secretKey": "DATABASE_URL",  # pragma: allowlist secret
            "remoteRef": {"key": "secret/code/prod/db", "property": "url"},
        },
    ]
    assert document["spec"]["target"]["name"] == "code-engine-secrets"


def test_the_validation_finds_what_breaks_the_schema() -> None:
    document = render_external_secret("shop", "prod", "shop", SECRETS)
    assert document is not None
    document["spec"]["data"][0]["remoteRef"] = {"property": "url"}  # no key
    document["spec"]["refreshInterval"] = 5
    problems = validate_external_secret(document)
    assert any("remoteRef" in p and "'key' is a required property" in p for p in problems)
    assert any("refreshInterval" in p for p in problems)
    assert validate_external_secret({"apiVersion": "v1", "kind": "Secret"})


def test_no_secrets_no_object_and_host_references_are_refused() -> None:
    assert render_external_secret("shop", "prod", "shop", {}) is None
    with pytest.raises(ConfigError, match="use a vault:// reference"):
        render_external_secret("shop", "prod", "shop", {"X": "env://X"})


def test_a_store_with_a_mount_gets_keys_relative_to_it() -> None:
    store = StoreRef("vault", "SecretStore", mount="kv-code-engine-prod")
    refs = {"CODE_DATABASE_URL": "vault://kv-code-engine-prod/code-engine/database#url"}
    document = render_external_secret("code-engine", "prod", "code-prod", refs, store=store)
    assert document is not None and validate_external_secret(document) == []
    [entry] = document["spec"]["data"]
    assert entry["remoteRef"] == {"key": "code-engine/database", "property": "url"}
    with pytest.raises(ConfigError, match="reads the mount 'kv-code-engine-prod', not 'kv'"):
        render_external_secret("code-engine", "prod", "code-prod", SECRETS, store=store)


def test_codes_own_prod_secrets_render_for_its_store() -> None:
    from pathlib import Path

    from code_engine.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[3] / "code.yaml")
    prod = spec.environment("prod")
    store = StoreRef("vault", "SecretStore", mount="kv-code-engine-prod")
    document = render_external_secret("code-engine", "prod", "code-prod", prod.secrets, store=store)
    assert document is not None and validate_external_secret(document) == []
