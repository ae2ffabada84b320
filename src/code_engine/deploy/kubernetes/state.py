"""The state of a GitOps deployment, as the controller persists it in the deployment row.

A deployment to a Kubernetes environment publishes one commit to the GitOps repository
(or, for a rollback, the revert of an earlier deployment's commit), then follows what Argo
CD and Argo Rollouts do with it. When the Rollout degrades, its analysis fails, a person
aborts it or it does not converge in time, the Rollout is aborted and the commit reverted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from code_engine.deploy.kubernetes.argocd import RolloutRef
from code_engine.deploy.rollout import Status

PROGRESS_DEADLINE = timedelta(minutes=30)
GITOPS = "gitops"  # the key of the GitOps state in a deployment's state
KUBERNETES = "kubernetes"  # the target kind


class Phase(str, Enum):
    PUBLISH = "publish"  # the commit (or the rollback's revert) is to be pushed
    SYNC = "sync"  # waiting for Argo CD to sync it and the Rollout to finish
    REVERT = "revert"  # abort the Rollout and push the revert of the commit
    DONE = "done"


@dataclass(frozen=True)
class Release:
    """What is delivered: the release, where its service lives, where it goes."""

    service: str
    environment: str
    version: str
    sha: str
    repo: str  # the service repository (a path or a URL)
    application: str  # the Argo CD Application
    rollouts: tuple[RolloutRef, ...] = ()
    image: str = ""
    digest: str | None = None
    gitops: tuple[str, str, str] = ("", "", "")  # repo, branch, path as planned


@dataclass(frozen=True)
class GitOpsState:
    deployment_id: int
    release: Release
    phase: Phase = Phase.PUBLISH
    status: Status = Status.PENDING
    revert_of: str | None = None  # a rollback: the commit of the deployment to undo
    commit: str | None = None  # what this deployment pushed
    branch: str | None = None  # where it was pushed
    on_side_branch: bool = False  # the branch refused direct pushes: a branch to merge
    revert_commit: str | None = None
    outcome: Status | None = None  # the status a revert under way ends in
    reason: str = ""
    message: str = ""
    step: int | None = None
    steps: int | None = None
    health: str = ""
    sync: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    deadline: timedelta = PROGRESS_DEADLINE
    errors: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["phase"] = self.phase.value
        data["status"] = self.status.value
        data["outcome"] = None if self.outcome is None else self.outcome.value
        data["release"]["rollouts"] = [asdict(r) for r in self.release.rollouts]
        data["release"]["gitops"] = list(self.release.gitops)
        data["started_at"] = _time(self.started_at)
        data["finished_at"] = _time(self.finished_at)
        data["deadline"] = self.deadline.total_seconds()
        data["errors"] = dict(self.errors)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GitOpsState:
        release = dict(data["release"])
        release["rollouts"] = tuple(RolloutRef(**r) for r in release.get("rollouts", ()))
        release["gitops"] = tuple(release.get("gitops") or ("", "", ""))
        return cls(
            **{
                **data,
                "release": Release(**release),
                "phase": Phase(data["phase"]),
                "status": Status(data["status"]),
                "outcome": None if data.get("outcome") is None else Status(data["outcome"]),
                "started_at": _parse(data.get("started_at")),
                "finished_at": _parse(data.get("finished_at")),
                "deadline": timedelta(seconds=float(data.get("deadline", 1800))),
                "errors": dict(data.get("errors") or {}),
            }
        )

    def finish(self, status: Status, reason: str, message: str, now: datetime) -> GitOpsState:
        return replace(
            self,
            phase=Phase.DONE,
            status=status,
            reason=reason,
            message=message,
            started_at=self.started_at or now,
            finished_at=now,
        )


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
