"""ExternalSecret objects (External Secrets Operator) for an environment's `secrets:`.

On Kubernetes CODE never handles a value: it renders one ExternalSecret per environment that
tells the operator, running in the cluster, which keys of which store to copy into a
Kubernetes Secret. Only `vault://` references can be rendered (the store is a SecretStore or
ClusterSecretStore of the Vault provider, KV v2: with a `path`, the store's mount, keys are
relative to it; without, the mount is the first part of each key); `env://` and `file://`
name things of CODE's own host and are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ruamel.yaml import YAML

from code_engine.errors import ConfigError
from code_engine.spec.secret_refs import parse_reference

GROUP = "external-secrets.io"
SERVED_VERSION = "v1"  # served and stored by the vendored CRD; v1beta1 is no longer served
CRD_FILE = "external-secrets-externalsecrets-crd.yaml"


@dataclass(frozen=True)
class StoreRef:
    """The SecretStore or ClusterSecretStore the operator reads from; `mount` is the KV v2
    mount the store's Vault provider sets as its `path` (empty: none, keys name the mount)."""

    name: str = "vault"
    kind: str = "ClusterSecretStore"
    mount: str = ""


def secret_name(service: str) -> str:
    """The Kubernetes Secret the ExternalSecret fills (what the Deployment's envFrom names)."""
    return f"{service}-secrets"


def render_external_secret(
    service: str,
    environment: str,
    namespace: str,
    secrets: Mapping[str, str],
    *,
    store: StoreRef | None = None,
    refresh_interval: str = "1h",
    version: str = SERVED_VERSION,
) -> dict[str, Any] | None:
    """The ExternalSecret of `secrets` (variable -> reference); None when there are none."""
    if not secrets:
        return None
    store = store or StoreRef()
    data = []
    for name, text in sorted(secrets.items()):
        reference = parse_reference(text)
        if reference.scheme != "vault":
            raise ConfigError(
                f"environment {environment}: secret {name} = {text}: a Kubernetes target "
                "reads secrets from a secret store; use a vault:// reference"
            )
        if store.mount and reference.mount != store.mount:
            raise ConfigError(
                f"environment {environment}: secret {name} = {text}: the {store.kind} "
                f"{store.name} reads the mount {store.mount!r}, not {reference.mount!r}"
            )
        key = reference.path if store.mount else f"{reference.mount}/{reference.path}"
        remote = {"key": key, "property": reference.key}
        data.append({"secretKey": name, "remoteRef": remote})
    labels = {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/managed-by": "code-engine",
        "code-engine.io/environment": environment,
    }
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "ExternalSecret",
        "metadata": {"name": secret_name(service), "namespace": namespace, "labels": labels},
        "spec": {
            "refreshInterval": refresh_interval,
            "secretStoreRef": {"name": store.name, "kind": store.kind},
            "target": {"name": secret_name(service), "creationPolicy": "Owner"},
            "data": data,
        },
    }


def validate_external_secret(document: Mapping[str, Any]) -> list[str]:
    """Where `document` breaks the ExternalSecret schema of its apiVersion (empty: valid)."""
    api_version = str(document.get("apiVersion", ""))
    group, _, version = api_version.partition("/")
    if group != GROUP or document.get("kind") != "ExternalSecret":
        return [f"not an {GROUP} ExternalSecret: {api_version} {document.get('kind')}"]
    schema = crd_schemas().get(version)
    if schema is None:
        return [f"{api_version}: the CRD has no such version"]
    import jsonschema  # on first use: its import costs every server and CLI start a second

    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(dict(document)), key=str)
    ]


@cache
def crd_schemas() -> dict[str, dict[str, Any]]:
    """The vendored CRD's `openAPIV3Schema` per version name."""
    text = resources.files("code_engine.secrets").joinpath("schemas", CRD_FILE).read_text()
    crd = YAML(typ="safe", pure=True).load(text)
    return {v["name"]: v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"]}
