"""The vendored CRD schemas (schemas/, see SOURCE.md) as strict JSON Schema validators.

A CRD's `openAPIV3Schema` is turned into JSON Schema the way the API server reads it:
`nullable` admits null, `x-kubernetes-int-or-string` admits both, and an object with
declared `properties` refuses unknown fields unless `x-kubernetes-preserve-unknown-fields`
keeps them (the API server would silently prune them: a typo must fail here instead).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

SCHEMAS = "code_engine.deploy.kubernetes.schemas"
# (group, kind) -> vendored file
VENDORED: Mapping[tuple[str, str], str] = {
    ("argoproj.io", "Application"): "argoproj.io_Application.json",
    ("argoproj.io", "AppProject"): "argoproj.io_AppProject.json",
    ("argoproj.io", "Rollout"): "argoproj.io_Rollout.json",
    ("argoproj.io", "AnalysisTemplate"): "argoproj.io_AnalysisTemplate.json",
    ("external-secrets.io", "ExternalSecret"): "external-secrets.io_ExternalSecret.json",
    ("external-secrets.io", "SecretStore"): "external-secrets.io_SecretStore.json",
}


def known(group: str, kind: str) -> bool:
    """Whether a schema of `kind` in `group` is vendored."""
    return (group, kind) in VENDORED


def versions(group: str, kind: str) -> tuple[str, ...]:
    """The API versions the vendored CRD of `kind` serves."""
    return tuple(_load(VENDORED[(group, kind)])["versions"])


def crd_schema(group: str, kind: str, version: str) -> Mapping[str, Any] | None:
    """The upstream `openAPIV3Schema` of `group/version` `kind`, None when not vendored."""
    name = VENDORED.get((group, kind))
    if name is None:
        return None
    schema: Mapping[str, Any] | None = _load(name)["versions"].get(version)
    return schema


@functools.cache
def validator(group: str, kind: str, version: str) -> Draft7Validator | None:
    """A strict validator of `group/version` `kind`, None when its schema is not vendored."""
    schema = crd_schema(group, kind, version)
    if schema is None:
        return None
    from jsonschema import Draft7Validator  # on first use: its import costs a second

    return Draft7Validator(strict(schema))


def strict(schema: Any) -> Any:
    """The JSON Schema equivalent of an OpenAPI v3 CRD schema, refusing unknown fields."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: strict(value) for key, value in schema.items()}
    if converted.pop("x-kubernetes-int-or-string", False):
        converted.pop("type", None)
        converted.pop("anyOf", None)
        converted["type"] = ["integer", "string"]
    preserve = converted.get("x-kubernetes-preserve-unknown-fields", False)
    if converted.pop("nullable", False) and "type" in converted:
        kinds = converted["type"]
        converted["type"] = [*(kinds if isinstance(kinds, list) else [kinds]), "null"]
    if "properties" in converted and "additionalProperties" not in converted and not preserve:
        converted["additionalProperties"] = False
    return converted


@functools.cache
def _load(name: str) -> Mapping[str, Any]:
    text = resources.files(SCHEMAS).joinpath(name).read_text(encoding="utf-8")
    loaded: Mapping[str, Any] = json.loads(text)
    return loaded
