"""The commits a deployment delivered, from git, when a tool reports only the revision.

GitHub and Argo CD send the deployed sha alone. When the service's `repo` is a local git
repository, the deployment delivered `git rev-list PREVIOUS..REVISION`, where PREVIOUS is
the revision of the last successful deployment before it in the same environment.
Deployments arrive out of order, so when one lands before an already stored successful
deployment, that later deployment's range is computed again: the stored ranges end up
the same whatever the arrival order.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from code_engine.dora.changestarts import refresh_change_starts
from code_engine.dora.deliveries import refresh_deliveries
from code_engine.dora.deployments import next_success, previous_success
from code_engine.dora.gitlog import GitError, commits_between
from code_engine.store.tables import DeploymentChangeRow, DeploymentRow, ReleaseRow

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
RECEIVED = "received"


def repository(repo: str) -> Path | None:
    """The service's repository when it is a local git work tree or bare repository."""
    if not repo or "://" in repo or repo.startswith("git@"):
        return None
    path = Path(repo).expanduser()
    if (path / ".git").exists() or (path / "HEAD").is_file():
        return path
    return None


def fillable(commits: tuple[str, ...], revision: str | None) -> bool:
    """Whether a deployment reported its revision only (so git knows the rest)."""
    return bool(revision) and set(commits) <= {revision}


def revision_of(session: Session, row: DeploymentRow) -> str | None:
    """The sha a stored deployment runs: as received, from its release, or its version."""
    received = row.state.get(RECEIVED) if isinstance(row.state, dict) else None
    if isinstance(received, dict) and received.get("revision"):
        return str(received["revision"])
    if row.release_id is not None:
        release = session.get(ReleaseRow, row.release_id)
        if release is not None and _SHA.fullmatch(release.sha):
            return release.sha
    return row.version if _SHA.fullmatch(row.version) else None


def delivered(session: Session, repo: Path, row: DeploymentRow, revision: str) -> list[str] | None:
    """`git rev-list PREVIOUS..REVISION` for a stored deployment; None when git cannot say."""
    previous = previous_success(session, row)
    base = revision_of(session, previous) if previous is not None else None
    try:
        if base is not None and base != revision:
            return commits_between(repo, base, revision)
        return commits_between(repo, None, revision) if base is None else []
    except GitError:
        return None


def replace_commits(session: Session, deployment_id: int, shas: list[str]) -> None:
    """Make the deployment's commit list exactly `shas`."""
    rows = session.scalars(
        select(DeploymentChangeRow).where(DeploymentChangeRow.deployment_id == deployment_id)
    ).all()
    wanted = dict.fromkeys(shas)
    removed = []
    for row in rows:
        if row.sha in wanted:
            del wanted[row.sha]
        else:
            removed.append(row.sha)
            session.delete(row)
    session.add_all(DeploymentChangeRow(deployment_id=deployment_id, sha=sha) for sha in wanted)
    refresh_change_starts(session, deployment_id)
    refresh_deliveries(session, [deployment_id], removed)


def refill(session: Session, repo: Path, row: DeploymentRow) -> None:
    """Recompute the commits of `row` (if it reported a revision only) and of the next
    successful deployment, whose range starts where this one's ends."""
    for target in (row, next_success(session, row)):
        if target is None:
            continue
        received = target.state.get(RECEIVED) if isinstance(target.state, dict) else None
        if not isinstance(received, dict) or not received.get("fillable"):
            continue
        shas = delivered(session, repo, target, str(received["revision"]))
        if shas is not None:
            replace_commits(session, target.id, shas)
