"""The Kubernetes target, the GitOps way: render, validate, commit; never apply to a cluster.

- `render`: the kustomize overlay with the release's image (`images`), workloads turned into
  Argo Rollouts objects (`rollouts`), each object with the file it came from.
- `validate`: core kinds against the Kubernetes schemas of a declared version, Argo CD, Argo
  Rollouts and External Secrets kinds against their vendored CRD schemas (`crds`).
- `gitops`: one commit per deployment in the GitOps repository Argo CD syncs, pushed without
  ever forcing, and reverted the same way.
"""

from __future__ import annotations

from code_engine.deploy.kubernetes.errors import (
    GitOpsUnreachable,
    KustomizeMissing,
    ManifestInvalid,
    OverlayNotFound,
    PushRaceLost,
    RenderError,
)
from code_engine.deploy.kubernetes.gitops import GitOpsPublisher, GitOpsRepo
from code_engine.deploy.kubernetes.message import Author, DeployMessage, Published
from code_engine.deploy.kubernetes.render import Rendered, render_environment
from code_engine.deploy.kubernetes.validate import validate_rendered

__all__ = [
    "Author",
    "DeployMessage",
    "GitOpsPublisher",
    "GitOpsRepo",
    "GitOpsUnreachable",
    "KustomizeMissing",
    "ManifestInvalid",
    "OverlayNotFound",
    "Published",
    "PushRaceLost",
    "RenderError",
    "Rendered",
    "render_environment",
    "validate_rendered",
]
