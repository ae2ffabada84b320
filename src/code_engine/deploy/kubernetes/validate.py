"""Validate rendered objects before anything is committed.

Core kinds are checked against the strict Kubernetes schemas of the declared version (the
ones PyPI `kubernetes-validate` ships: unknown fields are errors); Argo CD, Argo Rollouts and
External Secrets kinds against their vendored CRD schemas (`crds`). A kind neither knows is
an error too: nothing unchecked reaches the GitOps repository.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from referencing import Registry, Resource

from code_engine.deploy.kubernetes import crds
from code_engine.deploy.kubernetes.errors import ManifestInvalid
from code_engine.errors import UserError

if TYPE_CHECKING:
    from jsonschema import ValidationError

    from code_engine.deploy.kubernetes.render import Rendered

SCHEMA_PACKAGE = "kubernetes_validate"
SCHEMA_ROOT = "kubernetes-json-schema"


class Validator(Protocol):
    """Anything with `iter_errors` (both JSON Schema validators used here)."""

    def iter_errors(self, instance: Any) -> Iterable[ValidationError]:
        """Every way `instance` breaks the schema."""


def validate_rendered(rendered: Rendered, kubernetes_version: str) -> None:
    """Every object of `rendered` against its schema; ManifestInvalid lists every problem."""
    problems = list(_problems(rendered.objects, rendered.sources, kubernetes_version))
    if problems:
        raise ManifestInvalid(problems)


def validate_objects(
    objects: Iterable[Mapping[str, Any]], sources: Iterable[str], kubernetes_version: str
) -> None:
    """Objects (each with the file it came from) against their schemas."""
    problems = list(_problems(tuple(objects), tuple(sources), kubernetes_version))
    if problems:
        raise ManifestInvalid(problems)


def supported_versions() -> tuple[str, ...]:
    """The Kubernetes minor versions whose schemas are installed, oldest first."""
    root = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_ROOT)
    found = {
        _minor(entry.name[1:].split("-", 1)[0])
        for entry in root.iterdir()
        if entry.name.startswith("v") and entry.name.endswith("-local-strict")
    }
    return tuple(sorted(found, key=lambda v: tuple(int(p) for p in v.split("."))))


def _problems(
    objects: tuple[Mapping[str, Any], ...], sources: tuple[str, ...], kubernetes_version: str
) -> Iterator[str]:
    for obj, source in zip(objects, sources, strict=True):
        kind = str(obj.get("kind", "?"))
        name = str((obj.get("metadata") or {}).get("name", "?"))
        where = f"{source}: {kind}/{name}"
        api_version = str(obj.get("apiVersion", ""))
        validator, missing = _validator_for(kind, api_version, kubernetes_version)
        if validator is None:
            yield f"{where}: apiVersion: {missing}"
            continue
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path))):
            path, message = _describe(error)
            yield f"{where}: {path or '(object)'}: {message}"


def _validator_for(
    kind: str, api_version: str, kubernetes_version: str
) -> tuple[Validator | None, str]:
    group, _, version = api_version.rpartition("/")
    if crds.known(group, kind):
        crd = crds.validator(group, kind, version)
        if crd is None:
            served = ", ".join(f"{group}/{v}" for v in crds.versions(group, kind))
            return None, f"{kind} {api_version} is not served (vendored CRD serves {served})"
        return crd, ""
    core = _core_validator(_schema_dir(kubernetes_version), kind, api_version)
    if core is None:
        return None, (
            f"unknown kind {kind} {api_version}: no Kubernetes {kubernetes_version} schema "
            "and no vendored CRD schema"
        )
    return core, ""


def _schema_dir(kubernetes_version: str) -> str:
    """The strict schema directory of the newest installed version not above the declared."""
    wanted = _key(kubernetes_version)
    installed = supported_versions()
    usable = [v for v in installed if _key(v) <= wanted]
    if not usable or wanted > _key(installed[-1]):
        raise UserError(
            f"no Kubernetes schemas for version {kubernetes_version}: the installed "
            f"kubernetes-validate knows {installed[0]} to {installed[-1]}"
        )
    return f"v{usable[-1]}.0-local-strict"


@functools.cache
def _core_validator(schema_dir: str, kind: str, api_version: str) -> Validator | None:
    # rbac.authorization.k8s.io/v1 -> rbac-v1, apps/v1 -> apps-v1, v1 -> v1
    group, _, version = api_version.rpartition("/")
    prefix = f"{group.split('.', 1)[0]}-" if group else ""
    name = f"{kind.lower()}-{prefix}{version}.json"
    path = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_ROOT, schema_dir, name)
    if not kind or not version or not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    # imported on first use: jsonschema loads its format checkers at import (with the
    # `format` extra, an RFC 3987 grammar compiled on the spot), a second of every start
    from jsonschema import Draft202012Validator

    validator: Validator = Draft202012Validator(schema, registry=_registry(schema_dir))
    return validator


@functools.cache
def _registry(schema_dir: str) -> Registry[Any]:
    path = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_ROOT, schema_dir, "_definitions.json")
    definitions = Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))
    registry: Registry[Any] = definitions @ Registry()
    return registry


def _describe(error: ValidationError) -> tuple[str, str]:
    """The field path (`spec.template.spec.containers[0].image`) and message of an error."""
    if error.context:
        from jsonschema.exceptions import best_match

        deepest = best_match(error.context)
        if deepest is not None:
            error = deepest
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unknown = sorted(key for key in error.instance if key not in declared)
        if unknown:
            return _path([*path, unknown[0]]), "unknown field " + ", ".join(map(repr, unknown))
    return _path(path), error.message


def _path(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in _minor(version).split("."))
