"""`FakeGitOps`: the GitOps repository in memory, with the failures a test asks for."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from code_engine.deploy.kubernetes.errors import GitOpsUnreachable, PushRaceLost
from code_engine.deploy.kubernetes.gitops import FALLBACK_PREFIX, PUSH_ATTEMPTS
from code_engine.deploy.kubernetes.message import Author, DeployMessage, Published
from code_engine.deploy.kubernetes.render import Rendered


@dataclass(frozen=True)
class FakeCommit:
    """One commit of the fake repository."""

    sha: str
    branch: str
    text: str
    message: str
    author: Author
    reverts: str | None = None


@dataclass
class FakeGitOps:
    """A `GitOpsPublisher` keeping commits in a list.

    `races` pushes are lost before one lands (three or more lose the deployment);
    `protected` makes the branch refuse direct pushes (a `code/deploy-<id>` branch gets the
    commit); `unreachable` fails every call as an unreachable remote would.
    """

    branch: str = "main"
    races: int = 0
    protected: bool = False
    unreachable: bool = False
    commits: list[FakeCommit] = field(default_factory=list)
    renders: int = 0

    def head_text(self) -> str:
        """The manifests on the branch now ('' before the first deployment)."""
        on_branch = [c for c in self.commits if c.branch == self.branch]
        return on_branch[-1].text if on_branch else ""

    def publish(
        self,
        environment: str,
        render: Callable[[], Rendered],
        message: DeployMessage,
        author: Author,
    ) -> Published:
        """Commit `render()`'s text, after losing `races` pushes."""
        self._reach()
        for _ in range(PUSH_ATTEMPTS):
            rendered = render()
            self.renders += 1
            if rendered.text == self.head_text():
                return Published(self._head_sha(), self.branch, False, "unchanged")
            if self.races:
                self.races -= 1
                continue
            return self._land(rendered.text, message, author)
        raise PushRaceLost(f"other commits landed first {PUSH_ATTEMPTS} times; {environment}")

    def revert(self, commit: str, message: DeployMessage, author: Author) -> Published:
        """A commit restoring the text before `commit`."""
        self._reach()
        index = next(i for i, c in enumerate(self.commits) if c.sha == commit)
        before = [c for c in self.commits[:index] if c.branch == self.branch]
        return self._land(before[-1].text if before else "", message, author, reverts=commit)

    def diff(self, environment: str, rendered: Rendered) -> str:  # noqa: ARG002 - the Protocol
        """A unified diff from the branch's manifests to `rendered`."""
        self._reach()
        lines = difflib.unified_diff(
            self.head_text().splitlines(keepends=True), rendered.text.splitlines(keepends=True)
        )
        return "".join(lines)

    def _land(
        self, text: str, message: DeployMessage, author: Author, reverts: str | None = None
    ) -> Published:
        branch = f"{FALLBACK_PREFIX}{message.deployment}" if self.protected else self.branch
        sha = hashlib.sha1(f"{len(self.commits)}{text}".encode(), usedforsecurity=False)
        commit = FakeCommit(sha.hexdigest(), branch, text, message.text(), author, reverts)
        self.commits.append(commit)
        return Published(commit.sha, branch, True, f"pushed {commit.sha[:12]} to {branch}")

    def _head_sha(self) -> str:
        on_branch = [c for c in self.commits if c.branch == self.branch]
        return on_branch[-1].sha if on_branch else ""

    def _reach(self) -> None:
        if self.unreachable:
            raise GitOpsUnreachable("cannot reach the fake GitOps remote")
