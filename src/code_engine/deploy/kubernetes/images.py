"""The release's image in a kustomization's `images:`, as `kustomize edit set image` sets it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DIGEST_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")
# a Docker tag: word characters, dots and dashes, at most 128, not starting with . or -
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def image_tag(version: str) -> str:
    """The image tag of a release version; ValueError when it cannot be one."""
    tag = version.replace("+", "-")  # semver build metadata is not allowed in a tag
    if not TAG_PATTERN.fullmatch(tag):
        raise ValueError(f"version {version!r} cannot be an image tag")
    return tag


def check_digest(digest: str) -> str:
    """A `sha256:<64 hex>` digest; ValueError otherwise."""
    if not DIGEST_PATTERN.fullmatch(digest):
        raise ValueError(f"digest {digest!r} is not sha256:<64 lowercase hex digits>")
    return digest


def set_image(
    kustomization: Mapping[str, Any], name: str, version: str, digest: str | None
) -> dict[str, Any]:
    """A copy of `kustomization` whose `images:` entry for `name` carries the release.

    Like `kustomize edit set image name:tag@digest`: the entry is replaced (keeping a
    `newName` it had) or added; the tag is the version, the digest pins it when known.
    """
    entry: dict[str, Any] = {"name": name, "newTag": image_tag(version)}
    if digest is not None:
        entry["digest"] = check_digest(digest)
    images: list[dict[str, Any]] = []
    replaced = False
    for image in kustomization.get("images") or []:
        if isinstance(image, Mapping) and image.get("name") == name:
            if "newName" in image:
                entry["newName"] = image["newName"]
            images.append(entry)
            replaced = True
        else:
            images.append(dict(image))
    if not replaced:
        images.append(entry)
    return {**kustomization, "images": images}


def image_reference(name: str, version: str, digest: str | None) -> str:
    """The image reference kustomize writes for `set_image(name, version, digest)`."""
    reference = f"{name}:{image_tag(version)}"
    return f"{reference}@{digest}" if digest else reference


def repository_of(reference: str) -> str:
    """The repository of an image reference: without tag and digest."""
    without_digest = reference.split("@", 1)[0]
    slash = without_digest.rfind("/")
    colon = without_digest.rfind(":")
    return without_digest[:colon] if colon > slash else without_digest
