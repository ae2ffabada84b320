"""Render an environment: its kustomize overlay with the release's image, then Argo Rollouts.

The overlay is copied to a temporary directory (the repository is never touched), its
`images:` gets the release as `kustomize edit set image` would set it, and a real
`kubectl kustomize` builds it with origin annotations, from which each object learns the
file it came from. Workloads of the service's image then become Argo Rollouts objects.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from code_engine.deploy.kubernetes import images, kustomize, rollouts
from code_engine.deploy.kubernetes.errors import OverlayNotFound, RenderError
from code_engine.deploy.kubernetes.external_secrets import with_external_secrets
from code_engine.errors import UserError
from code_engine.spec import KubernetesTarget, ServiceSpec

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN = "config.kubernetes.io/origin"
# libyaml when present: kustomize output and the GitOps file are parsed and written each deploy
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Rendered:
    """The manifests of one release in one environment, as written to the GitOps repository.

    `sources[i]` is the file (relative to the service repository) `objects[i]` came from:
    the manifest that declared it, or the kustomization whose generator made it.
    """

    environment: str
    version: str
    image: str
    objects: tuple[Mapping[str, Any], ...]
    sources: tuple[str, ...]
    text: str

    def source_of(self, index: int) -> str:
        """Where object `index` came from."""
        return self.sources[index]


def kubernetes_target(spec: ServiceSpec, environment: str) -> KubernetesTarget:
    """The Kubernetes target of `environment`; UserError when it runs elsewhere."""
    target = spec.environment(environment).target
    if not isinstance(target, KubernetesTarget):
        raise UserError(
            f"environment {environment!r} targets {target.kind}; rendering needs kind: kubernetes"
        )
    return target


def render_environment(
    repo_root: Path,
    spec: ServiceSpec,
    environment: str,
    version: str,
    digest: str | None = None,
    *,
    kubectl: Path | None = None,
) -> Rendered:
    """Render `environment` of `spec` for release `version` (pinned to `digest` when known)."""
    target = kubernetes_target(spec, environment)
    overlay_rel = target.overlay_dir(environment)
    overlay = repo_root / overlay_rel
    manifests = repo_root / target.manifests
    if not overlay.resolve().is_relative_to(manifests.resolve()):
        raise OverlayNotFound(f"overlay {overlay_rel} is outside {target.manifests}")
    kustomization = _kustomization_file(overlay, overlay_rel)
    binary = kubectl or kustomize.find_kubectl()
    image = target.image_name(spec.service)
    try:
        reference = images.image_reference(image, version, digest)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="code-render-") as scratch:
        copy = Path(scratch) / "manifests"
        shutil.copytree(manifests, copy, symlinks=True)
        copied_overlay = copy / overlay.relative_to(manifests)
        _prepare(copied_overlay / kustomization.name, overlay_rel, image, version, digest)
        text = kustomize.build(binary, copied_overlay, overlay_rel)
    placed = [_place(obj, overlay_rel) for obj in _documents(text, overlay_rel)]
    placed = rollouts.progressive(
        placed,
        rollouts.Context(
            service=spec.service,
            environment=environment,
            version=version,
            image=image,
            strategy=spec.strategy_for(environment),
            slos=spec.slos,
            prometheus=target.prometheus,
        ),
    )
    placed = with_external_secrets(
        placed, spec.service, environment, target.namespace, spec.environment(environment).secrets
    )
    objects = tuple(obj for obj, _ in placed)
    return Rendered(
        environment=environment,
        version=version,
        image=reference,
        objects=objects,
        sources=tuple(source for _, source in placed),
        text=dump(objects),
    )


def render_directory(repo_root: Path, directory: str, *, kubectl: Path | None = None) -> Rendered:
    """Render a kustomization as it is (no image set, no Rollouts), e.g. Argo CD objects."""
    shown = directory.rstrip("/")
    path = (repo_root / directory).resolve()
    _kustomization_file(path, shown)
    binary = kubectl or kustomize.find_kubectl()
    with tempfile.TemporaryDirectory(prefix="code-render-") as scratch:
        # a wrapper asks for origin annotations without copying or touching the directory
        wrapper = Path(scratch)
        relative = os.path.relpath(path, wrapper)
        metadata = {"resources": [relative], "buildMetadata": ["originAnnotations"]}
        (wrapper / "kustomization.yaml").write_text(yaml.safe_dump(metadata), encoding="utf-8")
        text = kustomize.build(binary, wrapper, shown)
    root = repo_root.resolve()
    placed = []
    for obj, source in (_place(obj, "") for obj in _documents(text, shown)):
        absolute = Path(os.path.normpath(wrapper / source))
        if absolute.is_relative_to(root):
            source = absolute.relative_to(root).as_posix()
        placed.append((obj, source))
    objects = tuple(obj for obj, _ in placed)
    sources = tuple(source for _, source in placed)
    return Rendered(
        environment="", version="", image="", objects=objects, sources=sources, text=dump(objects)
    )


def dump(objects: tuple[Mapping[str, Any], ...]) -> str:
    """Objects as one multi-document YAML text, in a stable form."""
    text: str = yaml.dump_all(
        [dict(obj) for obj in objects],
        Dumper=DUMPER,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
    return text


def _kustomization_file(overlay: Path, shown: str) -> Path:
    if not overlay.is_dir():
        raise OverlayNotFound(f"overlay {shown} does not exist")
    for name in KUSTOMIZATION_FILES:
        if (overlay / name).is_file():
            return overlay / name
    raise OverlayNotFound(f"overlay {shown} has no kustomization.yaml")


def _prepare(path: Path, shown: str, image: str, version: str, digest: str | None) -> None:
    """Set the release's image and ask kustomize to annotate each object's origin."""
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise RenderError(f"{shown}/{path.name}: not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise RenderError(f"{shown}/{path.name}: a kustomization must be a mapping")
    try:
        edited = images.set_image(loaded, image, version, digest)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    metadata = list(edited.get("buildMetadata") or [])
    if "originAnnotations" not in metadata:
        metadata.append("originAnnotations")
    edited["buildMetadata"] = metadata
    path.write_text(yaml.dump(edited, Dumper=DUMPER, sort_keys=False), encoding="utf-8")


def _documents(text: str, shown: str) -> list[dict[str, Any]]:
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=LOADER) if doc is not None]
    except yaml.YAMLError as exc:
        raise RenderError(f"{shown}: kustomize output is not YAML: {exc}") from None
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
            raise RenderError(f"{shown}: rendered document {index + 1} is not a Kubernetes object")
    return documents


def _place(obj: dict[str, Any], overlay_rel: str) -> tuple[dict[str, Any], str]:
    """The object without its origin annotation, and the repository file it names."""
    metadata = obj.setdefault("metadata", {})
    annotations = metadata.get("annotations") or {}
    origin_text = annotations.pop(ORIGIN, None)
    if not annotations:
        metadata.pop("annotations", None)
    source = f"{overlay_rel}/kustomization.yaml"
    relative = _origin_path(origin_text) if isinstance(origin_text, str) else None
    if relative:
        source = posixpath.normpath(posixpath.join(overlay_rel, relative))
    return obj, source


def _origin_path(origin: str) -> str | None:
    """`path` (a resource file) or `configuredIn` (a generator's kustomization) of an origin
    annotation, a small YAML mapping whose top-level keys kustomize writes unquoted."""
    for key in ("path: ", "configuredIn: "):
        for line in origin.splitlines():
            if line.startswith(key):
                value = line[len(key) :].strip()
                return value.strip("'\"") if value[:1] in "'\"" else value
    return None
