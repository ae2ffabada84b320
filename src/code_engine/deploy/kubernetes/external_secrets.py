"""An environment's `secrets:` in the rendered manifests: ExternalSecret objects, never values.

The External Secrets Operator, in the cluster, copies the referenced keys of the store into a
Kubernetes Secret; the workloads read that Secret through `envFrom`. The store is the first
SecretStore or ClusterSecretStore the overlay renders (its Vault `path` is the KV mount), or
a ClusterSecretStore named `vault` when the overlay has none. Where the overlay already
renders the service's ExternalSecret (hand-written keys such as a signing-key passphrase),
the keys of `secrets:` are merged into it, each replacing one of the same name.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from code_engine.secrets.external import StoreRef, render_external_secret, secret_name

STORE_KINDS = ("SecretStore", "ClusterSecretStore")
WORKLOAD_KINDS = ("Rollout", "Deployment", "StatefulSet", "DaemonSet")

Placed = tuple[dict[str, Any], str]


def with_external_secrets(
    placed: Sequence[Placed],
    service: str,
    environment: str,
    namespace: str,
    secrets: Mapping[str, str],
) -> list[Placed]:
    """`placed` with the ExternalSecret of `secrets` added (or merged), and every workload's
    containers reading its Secret; unchanged when `secrets` is empty."""
    if not secrets:
        return list(placed)
    store = _store(obj for obj, _ in placed)
    # a reference this store cannot serve (another mount, env://, file://) is a ConfigError
    rendered = render_external_secret(service, environment, namespace, secrets, store=store)
    if rendered is None:
        return list(placed)
    name = secret_name(service)
    result = [(_reading(obj, name), source) for obj, source in placed]
    for index, (obj, source) in enumerate(result):
        if obj.get("kind") == "ExternalSecret" and _name(obj) == name:
            result[index] = (_merged(obj, rendered), source)
            return result
    result.append((rendered, "code.yaml"))
    return result


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _store(objects: Any) -> StoreRef:
    for obj in objects:
        if obj.get("kind") in STORE_KINDS:
            vault = ((obj.get("spec") or {}).get("provider") or {}).get("vault") or {}
            return StoreRef(
                name=_name(obj), kind=str(obj["kind"]), mount=str(vault.get("path", ""))
            )
    return StoreRef()


def _merged(existing: dict[str, Any], rendered: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(existing)
    spec = merged.setdefault("spec", {})
    ours = {entry["secretKey"]: entry for entry in rendered["spec"]["data"]}
    kept = [entry for entry in spec.get("data") or [] if entry.get("secretKey") not in ours]
    spec["data"] = kept + list(ours.values())
    return merged


def _reading(obj: dict[str, Any], secret: str) -> dict[str, Any]:
    """A workload whose every container reads `secret` through `envFrom` (once)."""
    if obj.get("kind") not in WORKLOAD_KINDS:
        return obj
    changed = copy.deepcopy(obj)
    pod = ((changed.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in pod.get("containers") or []:
        sources = container.setdefault("envFrom", [])
        if not any((s.get("secretRef") or {}).get("name") == secret for s in sources):
            sources.append({"secretRef": {"name": secret}})
    return changed
