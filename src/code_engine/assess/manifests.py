"""Kubernetes-style manifests (apiVersion + kind) anywhere in the repository's YAML files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from code_engine.assess.parsers import ParseError, YamlMap
from code_engine.assess.repo import RepoView, directories

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "Rollout")
_NOT_MANIFESTS = (".github/", ".pre-commit-config.yaml")


@dataclass(frozen=True)
class Manifest:
    """One YAML document with a kind, and where it starts."""

    file: str
    line: int
    kind: str
    api_version: str
    doc: YamlMap

    @property
    def name(self) -> str:
        metadata = self.doc.get("metadata")
        return str(metadata.get("name", "")) if isinstance(metadata, dict) else ""


def find(view: RepoView, *kinds: str) -> tuple[list[Manifest], list[ParseError]]:
    """Documents of the given kinds and the parse errors of files that might have held one."""
    return view.memo("manifests:" + ",".join(kinds), lambda: _find(view, kinds))


def _find(view: RepoView, kinds: tuple[str, ...]) -> tuple[list[Manifest], list[ParseError]]:
    found: list[Manifest] = []
    errors: list[ParseError] = []
    for name in _candidates(view, kinds):
        docs = view.yaml(name)
        if isinstance(docs, ParseError):
            errors.append(docs)
            continue
        for doc in _documents(docs or []):
            kind = doc.get("kind")
            if kind in kinds and isinstance(doc.get("apiVersion"), str):
                found.append(Manifest(name, doc.line, str(kind), doc["apiVersion"], doc))
    return found, errors


def _candidates(view: RepoView, kinds: tuple[str, ...]) -> Iterator[str]:
    patches = view.memo("kustomize-patches", lambda: kustomize_patches(view))
    for name in view.yaml_files():
        if name.startswith(_NOT_MANIFESTS) or _is_helm_template(name) or name in patches:
            continue
        text = view.text(name)
        # a cheap look for the kind's name decides which files are worth parsing
        if text is not None and "kind" in text and any(kind in text for kind in kinds):
            yield name


def kustomize_patches(view: RepoView) -> frozenset[str]:
    """Files kustomizations use as patches: partial documents, not manifests of their own."""
    found: set[str] = set()
    for name in view.named("kustomization.yaml", "kustomization.yml", "Kustomization"):
        doc = view.yaml_doc(name)
        if not isinstance(doc, YamlMap):
            continue
        base = PurePosixPath(name).parent
        entries = [*(doc.get("patchesStrategicMerge") or []), *(doc.get("patches") or [])]
        for entry in entries:
            path = entry.get("path") if isinstance(entry, dict) else entry
            if isinstance(path, str):
                found.add(_normalise(base / path))
    return frozenset(found)


def _normalise(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _is_helm_template(name: str) -> bool:
    return "templates" in directories(name)


def _documents(docs: list[Any]) -> Iterator[YamlMap]:
    for doc in docs:
        if not isinstance(doc, YamlMap):
            continue
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            yield from (item for item in doc["items"] if isinstance(item, YamlMap))
        else:
            yield doc


def dig(doc: Any, *path: str) -> Any:
    """`doc[path[0]][path[1]]...`, or None where a step is missing or not a mapping."""
    for key in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def pod_spec(manifest: Manifest) -> YamlMap | None:
    """The pod template's spec of a workload, whatever its kind."""
    spec = manifest.doc.get("spec")
    paths = {
        "Pod": (),
        "CronJob": ("jobTemplate", "spec", "template", "spec"),
    }.get(manifest.kind, ("template", "spec"))
    found = dig(spec, *paths) if paths else spec
    return found if isinstance(found, YamlMap) else None
