"""An environment's `secrets:` become an ExternalSecret in the rendered manifests, never values."""

from __future__ import annotations

from typing import Any

import pytest

from code_engine.deploy.kubernetes.external_secrets import with_external_secrets
from code_engine.errors import ConfigError
from code_engine.secrets.external import validate_external_secret

ROLLOUT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "shop"},
    "spec": {"template": {"spec": {"containers": [{"name": "shop", "image": "shop:1"}]}}},
}
STORE: dict[str, Any] = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "SecretStore",
    "metadata": {"name": "vault"},
    "spec": {"provider": {"vault": {"path": "kv-shop", "version": "v2"}}},
}
SECRETS = {"DATABASE_URL": "vault://kv-shop/shop/db#url"}


def test_no_secrets_changes_nothing() -> None:
    placed = [(ROLLOUT, "base/rollout.yaml")]
    assert with_external_secrets(placed, "shop", "prod", "shop", {}) == placed


def test_an_external_secret_is_added_and_the_workload_reads_it() -> None:
    placed = [(ROLLOUT, "base/rollout.yaml"), (STORE, "base/store.yaml")]
    result = with_external_secrets(placed, "shop", "prod", "shop-prod", SECRETS)
    (workload, _), _, (external, source) = result
    assert source == "code.yaml"
    assert external["kind"] == "ExternalSecret"
    assert external["metadata"] == {
        "name": "shop-secrets",
        "namespace": "shop-prod",
        "labels": external["metadata"]["labels"],
    }
    # the overlay's store, its mount taken off the keys
    assert external["spec"]["secretStoreRef"] == {"name": "vault", "kind": "SecretStore"}
    assert external["spec"]["data"] == [
        {
            "secretKey": "DATABASE_URL",  # pragma: allowlist secret
            "remoteRef": {"key": "shop/db", "property": "url"},
        }
    ]
    assert validate_external_secret(external) == []
    container = workload["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "shop-secrets"}}]
    assert "envFrom" not in ROLLOUT["spec"]["template"]["spec"]["containers"][0]  # a copy


def test_the_overlays_external_secret_gets_the_keys_merged() -> None:
    existing = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "shop-secrets"},
        "spec": {
            "secretStoreRef": {"name": "vault", "kind": "SecretStore"},
            "target": {"name": "shop-secrets"},
            "data": [
                {
                    "secretKey": "signing",  # pragma: allowlist secret
                    "remoteRef": {"key": "shop/keys", "property": "p"},
                },
                {
                    "secretKey": "DATABASE_URL",  # pragma: allowlist secret
                    "remoteRef": {"key": "old", "property": "x"},
                },
            ],
        },
    }
    placed = [(STORE, "s.yaml"), (existing, "base/external-secret.yaml")]
    result = with_external_secrets(placed, "shop", "prod", "shop", SECRETS)
    assert len(result) == 2
    merged, source = result[1]
    assert source == "base/external-secret.yaml"
    assert [entry["secretKey"] for entry in merged["spec"]["data"]] == ["signing", "DATABASE_URL"]
    assert merged["spec"]["data"][1]["remoteRef"] == {"key": "shop/db", "property": "url"}


def test_a_reference_the_cluster_cannot_read_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL = env://DB"):
        with_external_secrets(
            [(ROLLOUT, "r.yaml")], "shop", "prod", "shop", {"DATABASE_URL": "env://DB"}
        )
