"""Checks before a Kubernetes deployment is recorded: everything a person can fix is
refused at once, with what to fix, and nothing is written or pushed.

The release is rendered and validated for real (kustomize, the Kubernetes and CRD
schemas), the GitOps remote must answer, and Argo CD must know the Application and accept
the token. The Rollouts found in the rendered objects are what the controller follows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from code_engine.deploy.gitrepo import Repository
from code_engine.deploy.kubernetes.argocd import ArgoCD, RolloutRef
from code_engine.deploy.kubernetes.delivery import kubernetes_target, render_release
from code_engine.deploy.kubernetes.errors import GitOpsUnreachable
from code_engine.deploy.kubernetes.gitcmd import Git
from code_engine.deploy.kubernetes.render import Rendered
from code_engine.deploy.kubernetes.state import Release
from code_engine.errors import UserError
from code_engine.spec import ServiceSpec

NOT_CONFIGURED = (
    "Argo CD is not configured: set CODE_ARGOCD_URL and CODE_ARGOCD_TOKEN (a token of an "
    "Argo CD account that may get the Application and run actions on its Rollout)"
)


def rollouts_of(rendered: Rendered, namespace: str) -> tuple[RolloutRef, ...]:
    """The Argo Rollouts `Rollout` objects among the rendered ones."""
    refs = []
    for obj in rendered.objects:
        if obj.get("kind") != "Rollout":
            continue
        metadata = obj.get("metadata") or {}
        refs.append(
            RolloutRef(str(metadata.get("name")), str(metadata.get("namespace") or namespace))
        )
    return tuple(refs)


def check_remote(url: str) -> None:
    """The GitOps remote answers (`git ls-remote`); GitOpsUnreachable naming it otherwise."""
    with tempfile.TemporaryDirectory(prefix="code-gitops-") as tmp:
        try:
            Git(Path(tmp)).run("ls-remote", "--heads", url)
        except GitOpsUnreachable as exc:
            raise GitOpsUnreachable(f"GitOps repository {url} cannot be reached: {exc}") from None


def plan_release(
    repo: Repository,
    repo_ref: str,
    spec: ServiceSpec,
    environment: str,
    version: str,
    sha: str,
    argocd: ArgoCD | None,
    kubectl: str = "",
) -> Release:
    """Check that the release can be delivered to `environment`; what the controller needs.
    `repo_ref` is the service's repository as registered (the worker opens it again)."""
    target = kubernetes_target(spec, environment)
    assert target.gitops is not None  # noqa: S101 - checked by kubernetes_target  # nosec B101
    if argocd is None:
        raise UserError(NOT_CONFIGURED)
    application = target.application_name(spec.service, environment)
    base = Release(spec.service, environment, version, sha, repo_ref, application)
    with tempfile.TemporaryDirectory(prefix="code-render-") as tmp:
        rendered = render_release(repo, spec, base, Path(tmp), kubectl)()
    check_remote(target.gitops.repo)
    argocd.application(application)
    return Release(
        service=spec.service,
        environment=environment,
        version=version,
        sha=sha,
        repo=repo_ref,
        application=application,
        rollouts=rollouts_of(rendered, target.namespace),
        image=rendered.image,
        gitops=(target.gitops.repo, target.gitops.branch, target.gitops.path),
    )
