"""Delivery of a release to the GitOps repository: render, validate, commit, push; revert.

`Delivery` is what the GitOps controller needs of the world besides Argo CD; `GitDelivery`
does it for real (the service repository at the release's commit, `render_environment`,
`validate_rendered`, a `GitOpsRepo` working copy under the data directory), and an
in-memory one stands in for unit tests of the controller.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from code_engine.deploy.gitrepo import Repository, spec_at
from code_engine.deploy.kubernetes.gitcmd import Git
from code_engine.deploy.kubernetes.gitops import GitOpsRepo
from code_engine.deploy.kubernetes.kustomize import find_kubectl
from code_engine.deploy.kubernetes.message import Author, DeployMessage
from code_engine.deploy.kubernetes.render import Rendered, render_environment
from code_engine.deploy.kubernetes.state import GitOpsState, Release
from code_engine.deploy.kubernetes.validate import validate_rendered
from code_engine.errors import UserError
from code_engine.spec import GitOps, KubernetesTarget, ServiceSpec

AUTHOR_DOMAIN = "code.invalid"  # principals have names, not mail addresses


@dataclass(frozen=True)
class Pushed:
    """A commit on the GitOps remote: on the branch Argo CD follows, or on a side branch."""

    commit: str
    branch: str
    side_branch: bool = False


class Delivery(Protocol):
    """Pushes a deployment's commit, or the revert of one, to the GitOps repository."""

    def publish(self, state: GitOpsState, author: str) -> Pushed:
        """Render and validate the release, commit it for the environment and push it."""

    def revert(self, state: GitOpsState, commit: str, author: str) -> Pushed:
        """Push the revert of `commit` (never a force-push)."""

    def contains(self, state: GitOpsState, revision: str) -> bool:
        """Whether `revision` of the GitOps repository includes the deployment's commit."""


def kubernetes_target(spec: ServiceSpec, environment: str) -> KubernetesTarget:
    target = spec.environment(environment).target
    if not isinstance(target, KubernetesTarget):
        raise UserError(f"environment {environment!r} does not target Kubernetes")
    if target.gitops is None:
        raise UserError(
            f"code.yaml: environments.{environment}.target.gitops: unset; a Kubernetes "
            "environment is delivered through a GitOps repository (repo, branch, path)"
        )
    return target


def render_release(
    repo: Repository, spec: ServiceSpec, release: Release, tree: Path, kubectl: str = ""
) -> Callable[[], Rendered]:
    """A renderer of the release from its files exported to `tree` (render + validate),
    with `kubectl` (the `CODE_KUBECTL` setting; empty: the virtualenv's, then PATH)."""
    target = kubernetes_target(spec, release.environment)
    binary = find_kubectl(kubectl or None)
    repo.export(release.sha, tree)

    def render() -> Rendered:
        rendered = render_environment(
            tree, spec, release.environment, release.version, release.digest, kubectl=binary
        )
        validate_rendered(rendered, target.kubernetes_version)
        return rendered

    return render


def author_of(principal: str) -> Author:
    return Author(name=principal, email=f"{principal}@{AUTHOR_DOMAIN}")


class GitDelivery:
    """The real delivery: service repositories opened by `open_repo`, GitOps working
    copies under `data_dir`, kustomize from `kubectl` (see `render_release`)."""

    def __init__(
        self, data_dir: Path, open_repo: Callable[[str], Repository], kubectl: str = ""
    ) -> None:
        self.data_dir = data_dir
        self.open_repo = open_repo
        self.kubectl = kubectl
        self._known: dict[tuple[str, str], bool] = {}  # (commit, revision) -> contains

    def _gitops(self, spec: ServiceSpec, environment: str) -> tuple[GitOpsRepo, str]:
        target = kubernetes_target(spec, environment)
        assert target.gitops is not None  # noqa: S101 - checked by kubernetes_target  # nosec B101
        return GitOpsRepo.under(self.data_dir, environment, target.gitops), target.gitops.branch

    def publish(self, state: GitOpsState, author: str) -> Pushed:
        release = state.release
        repo = self.open_repo(release.repo)
        spec = spec_at(repo, release.sha)
        gitops, branch = self._gitops(spec, release.environment)
        message = DeployMessage.deploy(
            release.service,
            release.environment,
            str(state.deployment_id),
            release.version,
            release.sha,
        )
        with tempfile.TemporaryDirectory(prefix="code-render-") as tmp:
            render = render_release(repo, spec, release, Path(tmp), self.kubectl)
            done = gitops.publish(release.environment, render, message, author_of(author))
        return Pushed(done.commit, done.branch, done.branch != branch)

    def revert(self, state: GitOpsState, commit: str, author: str) -> Pushed:
        release = state.release
        spec = spec_at(self.open_repo(release.repo), release.sha)
        gitops, branch = self._gitops(spec, release.environment)
        message = DeployMessage.rollback(
            release.service,
            release.environment,
            str(state.deployment_id),
            release.version,
            release.sha,
        )
        done = gitops.revert(commit, message, author_of(author))
        return Pushed(done.commit, done.branch, done.branch != branch)

    def contains(self, state: GitOpsState, revision: str) -> bool:
        commit, (repo, branch, path) = state.commit, state.release.gitops
        if commit is None or not repo or not re.fullmatch(r"[0-9a-f]{7,64}", revision):
            return False
        if (commit, revision) in self._known:
            return self._known[(commit, revision)]
        gitops = GitOps(repo=repo, branch=branch, path=path)
        git = Git(GitOpsRepo.under(self.data_dir, state.release.environment, gitops).workdir)
        if not (git.directory / ".git").is_dir():
            return False  # published elsewhere: the commit itself counts
        if git.run("cat-file", "-e", f"{revision}^{{commit}}", check=False).code != 0:
            git.run("fetch", "--quiet", "origin", check=False)
            if git.run("cat-file", "-e", f"{revision}^{{commit}}", check=False).code != 0:
                return False  # not fetched yet: asked again next time
        found = git.run("merge-base", "--is-ancestor", commit, revision, check=False).code == 0
        self._known[(commit, revision)] = found
        return found
