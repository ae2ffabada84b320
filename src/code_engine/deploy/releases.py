"""Releases: a version of a service at one git commit, checked against its `code.yaml`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from code_engine.audit import trail as audit
from code_engine.catalog.store import require_service
from code_engine.deploy import policy_hook, store
from code_engine.deploy.gitrepo import is_remote, spec_at
from code_engine.deploy.local.artifact import release_path
from code_engine.deploy.service import Actor, DeployContext, service_repo
from code_engine.errors import UserError
from code_engine.pipeline import store as pipeline_store
from code_engine.pipeline.evidence import Qualification
from code_engine.spec import LocalTarget
from code_engine.store.tables import ReleaseRow


def create_release(
    session: Session,
    ctx: DeployContext,
    actor: Actor,
    service_name: str,
    version: str,
    sha: str = "",
) -> ReleaseRow:
    """Record release `version` of the service at `sha` (default: the repository's HEAD).

    With a repository, the commit must exist and carry a valid `code.yaml` for this
    service; for the local target the artifact is the snapshot the controller builds once
    (source at that commit plus its own virtualenv) under the data directory.
    A service without a local repository only gets the record (releases built elsewhere
    are checked when they are deployed). The repository itself is the service's, set by an
    admin (`catalog.repos.change_repo`); a release cannot name another.
    """
    service = require_service(session, service_name)
    artifact = ""
    draft = ReleaseRow(version=version, sha=sha, created_by=actor.name, created_at=ctx.now)
    where = f"service/{service.name}/release/{version}"
    if service.repo and not is_remote(service.repo):
        repository = service_repo(ctx, service)
        sha = draft.sha = repository.resolve(sha or "HEAD")
        spec = spec_at(repository, sha)
        if spec.service != service.name:
            raise UserError(
                f"code.yaml at {sha[:12]} describes {spec.service!r}, not {service.name!r}"
            )
        if any(isinstance(e.target, LocalTarget) for e in spec.environments):
            artifact = str(release_path(ctx.data_dir, service.name, version))
        subject = (service, draft, spec, repository)
        policy_hook.check(session, ctx, actor, "create_release", subject, None, resource=where)
    else:  # no code.yaml to read here: the operator's policies decide alone
        policy_hook.check_without_spec(
            session, ctx, actor, "create_release", service, draft, None, where
        )
    row = store.create_release(session, service.id, version, sha, artifact, actor.name, ctx.now)
    qualified = pipeline_store.qualification(session, service.id, sha).qualified
    audit.record(
        session,
        at=ctx.now,
        principal=actor.name,
        action="release.create",
        resource=f"service/{service.name}/release/{row.version}",
        detail={"sha": sha, "qualified": qualified},
    )
    return row


def qualification(session: Session, release: ReleaseRow) -> Qualification:
    """Whether the release's commit has a passing pipeline run, asked now: a run recorded
    after the release re-evaluates it."""
    return pipeline_store.qualification(session, release.service_id, release.sha)


def qualifications(session: Session, releases: Sequence[ReleaseRow]) -> list[Qualification]:
    """`qualification` of each release, in one query for releases at full shas."""
    found = pipeline_store.qualifications(session, [(r.service_id, r.sha) for r in releases])
    return [found[(r.service_id, r.sha)] for r in releases]
