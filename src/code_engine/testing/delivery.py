"""`FakeDelivery`: GitOps pushes in memory, with the failures a test asks for."""

from __future__ import annotations

from dataclasses import dataclass, field

from code_engine.deploy.kubernetes.delivery import Pushed
from code_engine.deploy.kubernetes.state import GitOpsState


@dataclass
class FakeDelivery:
    """Each publish or revert gets the next commit id; `failure` is raised instead when set."""

    branch: str = "main"
    failure: Exception | None = None
    pushed: list[tuple[str, int, str]] = field(default_factory=list)  # (what, deployment, by)
    later: set[str] = field(default_factory=set)  # revisions that include every pushed commit

    def _next(self) -> str:
        return f"{len(self.pushed) + 1:040x}"

    def publish(self, state: GitOpsState, author: str) -> Pushed:
        if self.failure is not None:
            raise self.failure
        commit = self._next()
        self.pushed.append(("publish", state.deployment_id, author))
        return Pushed(commit, self.branch, self.branch != "main")

    def revert(self, state: GitOpsState, commit: str, author: str) -> Pushed:
        if self.failure is not None:
            raise self.failure
        made = self._next()
        self.pushed.append((f"revert {commit}", state.deployment_id, author))
        return Pushed(made, self.branch, self.branch != "main")

    def contains(self, state: GitOpsState, revision: str) -> bool:  # noqa: ARG002 - any commit
        return revision in self.later
