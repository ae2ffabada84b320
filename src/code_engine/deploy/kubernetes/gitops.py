"""The GitOps repository Argo CD syncs: one commit per deployment, pushed, never forced.

CODE keeps a working copy of each environment's GitOps repository under its data directory
(`<data>/gitops/<environment>-<hash>/`) and writes the rendered manifests to
`<gitops.path>/manifests.yaml`, one multi-document file per environment. A publish or a
revert holds the environment's lock file, so two deployments never interleave; pushes are
retried on a non-fast-forward (fetch, re-render on the new head, commit, push) up to three
times. A branch that refuses direct pushes gets a `code/deploy-<id>` branch instead; a remote
that cannot be reached or written leaves the working copy as the remote has it.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from code_engine.deploy.kubernetes import lock
from code_engine.deploy.kubernetes.errors import GitOpsUnreachable, PushRaceLost
from code_engine.deploy.kubernetes.gitcmd import Git, PushOutcome
from code_engine.deploy.kubernetes.message import Author, DeployMessage, Published
from code_engine.deploy.kubernetes.render import Rendered
from code_engine.errors import ConflictError, UserError
from code_engine.spec import GitOps

MANIFESTS_FILE = "manifests.yaml"
PUSH_ATTEMPTS = 3
FALLBACK_PREFIX = "code/deploy-"
REVERT_PREFIX = "code/revert-"


class GitOpsPublisher(Protocol):
    """What a deployment needs from the GitOps repository (real: GitOpsRepo)."""

    def publish(
        self,
        environment: str,
        render: Callable[[], Rendered],
        message: DeployMessage,
        author: Author,
    ) -> Published:
        """Commit and push the manifests `render` returns."""
        ...

    def revert(self, commit: str, message: DeployMessage, author: Author) -> Published:
        """Commit and push the revert of `commit`."""
        ...

    def diff(self, environment: str, rendered: Rendered) -> str:  # noqa: ARG002 - the contract
        """What publishing `rendered` would change, as a unified diff."""
        ...


class GitOpsRepo:
    """A working copy of one environment's GitOps repository, cloned from `gitops.repo`."""

    def __init__(self, gitops: GitOps, workdir: Path, *, environment: str = "") -> None:
        self.gitops = gitops
        self.workdir = workdir
        self.environment = environment
        self.branch = gitops.branch
        self.path = gitops.path.strip("/")

    @classmethod
    def under(cls, data_dir: Path, environment: str, gitops: GitOps) -> GitOpsRepo:
        """The working copy of `environment` under CODE's data directory."""
        key = f"{gitops.repo}\n{gitops.branch}\n{gitops.path}".encode()
        digest = hashlib.sha256(key).hexdigest()[:12]
        return cls(gitops, data_dir / "gitops" / f"{environment}-{digest}", environment=environment)

    @property
    def file(self) -> str:
        """The manifests file, relative to the repository root."""
        return f"{self.path}/{MANIFESTS_FILE}" if self.path else MANIFESTS_FILE

    def publish(
        self,
        environment: str,
        render: Callable[[], Rendered],
        message: DeployMessage,
        author: Author,
    ) -> Published:
        """Commit the rendered manifests as `author` and push them (see the module's text)."""
        with self._locked(), self._undone_on_error():
            for _ in range(PUSH_ATTEMPTS):
                # render (kustomize) while git fetches: neither depends on the other
                with ThreadPoolExecutor(max_workers=1) as pool:
                    rendering = pool.submit(render)
                    self._sync()
                    rendered = rendering.result()
                target = self.workdir / self.file
                if target.is_file() and target.read_text(encoding="utf-8") == rendered.text:
                    head = self._git().run("rev-parse", "HEAD").out.strip()
                    return Published(head, self.branch, False, f"{self.file} is unchanged")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(rendered.text, encoding="utf-8")
                self._git().run("add", "--", self.file)
                published = self._commit_and_push(message, author, environment)
                if published is not None:
                    return published
            self._reset()
            raise PushRaceLost(
                f"{self.gitops.repo} {self.branch}: other commits landed first "
                f"{PUSH_ATTEMPTS} times; {environment} was not deployed"
            )

    def revert(self, commit: str, message: DeployMessage, author: Author) -> Published:
        """`git revert` of `commit` as `author`, pushed the same way; never a force-push."""
        if not re.fullmatch(r"[0-9a-f]{7,64}", commit):
            raise UserError(f"{commit!r} is not a commit id")
        with self._locked(), self._undone_on_error():
            for _ in range(PUSH_ATTEMPTS):
                self._sync()
                git = self._git()
                if git.run("merge-base", "--is-ancestor", commit, "HEAD", check=False).code:
                    raise UserError(
                        f"commit {commit} is not on {self.branch} of {self.gitops.repo}"
                    )
                reverted = git.run("revert", "--no-commit", commit, check=False)
                if reverted.code != 0:
                    self._reset()
                    raise ConflictError(
                        f"cannot revert {commit} on {self.branch}: later commits changed "
                        f"the same lines ({reverted.err.strip()})"
                    )
                published = self._commit_and_push(
                    message, author, self.environment, fallback=REVERT_PREFIX
                )
                if published is not None:
                    return published
            self._reset()
            raise PushRaceLost(
                f"{self.gitops.repo} {self.branch}: other commits landed first "
                f"{PUSH_ATTEMPTS} times; the revert of {commit} was not pushed"
            )

    def diff(self, environment: str, rendered: Rendered) -> str:  # noqa: ARG002 - the contract
        """A unified diff from the branch head's manifests to `rendered` ('' when equal)."""
        with self._locked():
            self._sync()
            target = self.workdir / self.file
            before = target.read_text(encoding="utf-8") if target.is_file() else ""
        label = self.file
        lines = difflib.unified_diff(
            before.splitlines(keepends=True),
            rendered.text.splitlines(keepends=True),
            fromfile=f"a/{label}" if before else "/dev/null",
            tofile=f"b/{label}",
        )
        return "".join(lines)

    # --- the working copy -------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with lock.held(self.workdir.with_name(self.workdir.name + ".lock")):
            yield

    @contextmanager
    def _undone_on_error(self) -> Iterator[None]:
        """Whatever fails midway, the working copy ends as the remote has it."""
        try:
            yield
        except (GitOpsUnreachable, PushRaceLost):
            raise  # already reset
        except Exception:
            self._reset()
            raise

    def _git(self) -> Git:
        return Git(self.workdir)

    def _sync(self) -> str | None:
        """Clone or fetch, then make the working copy the remote branch (None: no branch)."""
        if not (self.workdir / ".git").is_dir():
            self._clone()
        git = self._git()
        git.run("fetch", "--prune", "origin")
        remote = f"refs/remotes/origin/{self.branch}"
        # -f -B: the local branch is the remote one, local changes and commits dropped
        if (
            git.run("checkout", "--quiet", "--force", "-B", self.branch, remote, check=False).code
            == 0
        ):
            return remote
        if git.run("rev-parse", "--verify", "--quiet", remote, check=False).code == 0:
            raise GitOpsUnreachable(f"cannot check out {self.branch} in {self.workdir}")
        # an empty remote, or one without the branch yet: start it
        git.run("symbolic-ref", "HEAD", f"refs/heads/{self.branch}")
        git.run("update-ref", "-d", f"refs/heads/{self.branch}")
        git.run("read-tree", "--empty")
        git.run("clean", "-fdxq")
        return None

    def _clone(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.parent.mkdir(parents=True, exist_ok=True)
        Git(self.workdir.parent).run(
            "clone", "--quiet", "--no-checkout", self.gitops.repo, str(self.workdir)
        )

    def _reset(self) -> None:
        """Forget local commits and changes: the working copy is what the remote has."""
        try:
            self._sync()
            self._git().run("clean", "-fdxq")
        except GitOpsUnreachable:
            shutil.rmtree(self.workdir, ignore_errors=True)  # cloned again next time

    def _commit_and_push(
        self,
        message: DeployMessage,
        author: Author,
        environment: str,
        *,
        fallback: str = FALLBACK_PREFIX,
    ) -> Published | None:
        """Commit what is staged and push it; None when the remote moved on meanwhile."""
        git = self._git()
        git.run("commit", "--quiet", "--no-verify", "-m", message.text(), author=author)
        commit = git.run("rev-parse", "HEAD").out.strip()
        outcome, why = git.push("HEAD", self.branch)
        if outcome is PushOutcome.PUSHED:
            return Published(commit, self.branch, True, f"pushed {commit[:12]} to {self.branch}")
        if outcome is PushOutcome.BEHIND:
            return None
        if outcome is PushOutcome.REFUSED:
            branch = fallback + re.sub(r"[^A-Za-z0-9._-]", "-", message.deployment)
            second, second_why = git.push("HEAD", branch)
            if second is PushOutcome.PUSHED:
                self._reset()
                return Published(
                    commit,
                    branch,
                    True,
                    f"{self.branch} refuses direct pushes ({why}); pushed {commit[:12]} to "
                    f"branch {branch} for {environment}: merge it into {self.branch}",
                )
            why = second_why
        self._reset()
        raise GitOpsUnreachable(f"cannot push to {self.gitops.repo} {self.branch}: {why}")
