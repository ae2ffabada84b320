"""The GitOps controller of one Kubernetes environment: per tick, hold the environment's
lease, look at Argo CD, `decide`, act (push, abort, revert) and persist, fenced by the lease.

Everything it needs is in the deployment row (`state["gitops"]`): a restarted controller
resumes where the last one stopped. The outcome is written through DORA's one writer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from code_engine.audit import trail as audit
from code_engine.clock import Clock, utc_now
from code_engine.deploy import environments as envs
from code_engine.deploy import store
from code_engine.deploy.commands import consume, pending_commands
from code_engine.deploy.controller import lease
from code_engine.deploy.controller.environment import ControllerConfig
from code_engine.deploy.kubernetes.argocd import ArgoCD
from code_engine.deploy.kubernetes.decide import (
    Abort,
    Action,
    Publish,
    Revert,
    Seen,
    decide,
    failed_to_push,
    published,
    reverted,
)
from code_engine.deploy.kubernetes.delivery import Delivery
from code_engine.deploy.kubernetes.errors import GitOpsUnreachable, PushRaceLost
from code_engine.deploy.kubernetes.state import GITOPS, GitOpsState, Phase
from code_engine.deploy.rollout import Command, Status
from code_engine.errors import CodeError
from code_engine.observe.logging import get_logger
from code_engine.store.engine import Database

log = get_logger(__name__)
CONTROLLER = "controller"


def resource(state: GitOpsState) -> str:
    release = state.release
    return f"service/{release.service}/env/{release.environment}/deployment/{state.deployment_id}"


@dataclass
class GitOpsController:
    """Drives the deployments of one Kubernetes environment through Git and Argo CD."""

    db: Database
    managed: envs.ManagedEnvironment
    owner: str
    delivery: Delivery
    argocd: Callable[[], ArgoCD | None]
    config: ControllerConfig
    clock: Clock = utc_now
    lease_until: datetime | None = None

    @property
    def lease_name(self) -> str:
        return f"deploy:{self.managed.key}"

    def tick(self) -> float:
        """One pass; returns seconds until the next one is due."""
        now = self.clock()
        if not self._hold(now):
            return self.config.poll
        item = self.managed
        with self.db.session() as session:
            row = envs.active_deployment(session, item.service_id, item.environment_id)
            if row is None or GITOPS not in (row.state or {}):
                return self.config.poll
            state = GitOpsState.from_dict(row.state[GITOPS])
            author = row.created_by or CONTROLLER
            commands = [(c.id, Command(c.command)) for c in pending_commands(session, row.id)]
        abort = any(command is Command.ABORT for _, command in commands)
        seen = self._look(state, abort) if state.phase is Phase.SYNC else Seen(abort=abort)
        decision = decide(state, seen, now)
        after = decision.state
        for action in decision.actions:
            after = self._act(after, action, author, now)
        if not self._save(state, after, [c for c, _ in commands], now):
            return self.config.poll
        if after.phase is not state.phase or after.status is not state.status:
            return self.config.busy_poll
        return self.config.poll

    def _look(self, state: GitOpsState, abort: bool) -> Seen:
        argocd = self.argocd()
        if argocd is None:
            return Seen(error="no Argo CD configured (CODE_ARGOCD_URL)", abort=abort)
        name = state.release.application
        try:
            app = argocd.application(name)
            rollouts = tuple(argocd.rollout(name, ref) for ref in state.release.rollouts)
        except (CodeError, OSError) as exc:
            return Seen(error=str(exc), abort=abort)
        contains = None
        if app.revision and state.commit and app.revision != state.commit:
            try:  # other commits landed on top of ours: Argo CD runs ours too
                contains = self.delivery.contains(state, app.revision)
            except (CodeError, OSError) as exc:
                log.warning("gitops ancestry check failed", error=str(exc))
        return Seen(app, rollouts, abort=abort, contains=contains)

    def _act(self, state: GitOpsState, action: Action, author: str, now: datetime) -> GitOpsState:
        """Apply one action and fold its result into the state."""
        if isinstance(action, Abort):
            argocd = self.argocd()
            try:
                if argocd is None:
                    raise CodeError("no Argo CD configured (CODE_ARGOCD_URL)")
                argocd.abort(state.release.application, action.rollout)
            except (CodeError, OSError) as exc:  # the revert still undoes the change
                errors = {**state.errors, "abort": str(exc)}
                return replace(state, errors=errors)
            return state
        rollback = state.phase is Phase.REVERT
        try:
            if isinstance(action, Publish):
                pushed = self.delivery.publish(state, author)
            else:
                assert isinstance(action, Revert)  # noqa: S101 - the last kind  # nosec B101
                pushed = self.delivery.revert(state, action.commit, author)
        except (CodeError, OSError) as exc:
            if rollback and isinstance(exc, GitOpsUnreachable | PushRaceLost | OSError):
                # the change is live: try the revert again next tick
                log.warning("gitops revert failed", deployment=state.deployment_id, error=str(exc))
                return replace(state, errors={**state.errors, "revert": str(exc)})
            if rollback:  # e.g. later commits changed the same lines: a person decides
                message = f"{state.message}; the revert failed: {exc}"
                return state.finish(Status.FAILED, state.reason, message, now)
            return failed_to_push(state, str(exc), now)
        if rollback:
            done = reverted(state, pushed.commit, now)
            if pushed.side_branch:  # Git is true again once a person merges it
                message = f"{done.message}; the revert is on branch {pushed.branch}: merge it"
                done = replace(done, message=message)
            return done
        return published(state, pushed.commit, pushed.branch, pushed.side_branch, now)

    def _save(
        self, before: GitOpsState, after: GitOpsState, consumed: Sequence[int], now: datetime
    ) -> bool:
        """Write the state back (fenced by the lease); False when the lease was lost."""
        if after == before and not consumed:
            return True
        with self.db.session() as session:
            if not lease.holds(session, self.lease_name, self.owner, now):
                self.lease_until = None
                return False
            row = store.get_deployment(session, after.deployment_id)
            data = dict(row.state)
            events = list(data.get("events", []))
            if after.status is not before.status or after.phase is not before.phase:
                event = {"at": now.isoformat(), "status": after.status.value}
                events.append({**event, "reason": after.reason, "message": after.message})
                audit.record(
                    session,
                    at=now,
                    principal=CONTROLLER,
                    action=f"deployment.{after.status.value}",
                    resource=resource(after),
                    detail={"reason": after.reason, "message": after.message},
                )
            data[GITOPS] = after.to_dict()
            data["events"] = events
            if after.errors:
                data["errors"] = dict(after.errors)
            row.state = data
            row.message = after.message
            store.record_status(
                session,
                row,
                status=after.status.value,
                started_at=after.started_at,
                finished_at=after.finished_at,
            )
            consume(session, consumed, now)
        return True

    def _hold(self, now: datetime) -> bool:
        ttl = self.config.lease_ttl
        if self.lease_until is not None and self.lease_until - now > ttl / 2:
            return True
        with self.db.session() as session:
            held = lease.acquire(session, self.lease_name, self.owner, now, ttl)
        self.lease_until = now + ttl if held else None
        return held

    def drop(self) -> None:
        """Nothing is watched between ticks."""

    def close(self) -> None:
        """Give the lease back."""
        if self.lease_until is not None:
            with self.db.session() as session:
                lease.release(session, self.lease_name, self.owner)
            self.lease_until = None
