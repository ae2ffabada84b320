"""What can go wrong between an overlay and a pushed GitOps commit; each error names the thing."""

from __future__ import annotations

from code_engine.errors import ConflictError, NotFoundError, UserError


class KustomizeMissing(UserError):
    """No `kubectl` (with its built-in kustomize) to render with."""


class OverlayNotFound(NotFoundError):
    """The environment's overlay directory (or its kustomization file) does not exist."""


class RenderError(UserError):
    """kustomize refused the manifests, or produced something that is not Kubernetes objects."""


class ManifestInvalid(UserError):
    """Rendered objects failed schema validation: one `file: kind/name: field: message` line
    per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} invalid manifest {noun}:\n" + "\n".join(self.problems))


class GitOpsUnreachable(UserError):
    """The GitOps remote cannot be cloned, fetched or pushed to; nothing was left half-done."""


class PushRaceLost(ConflictError):
    """Other commits kept landing on the GitOps branch first; the deployment was not pushed."""
