"""`FakeArgoCD`: the Argo CD reader in memory, with Applications and Rollouts a test sets."""

from __future__ import annotations

from dataclasses import dataclass, field

from code_engine.deploy.kubernetes.argocd import (
    ApplicationNotFound,
    ApplicationStatus,
    ArgoTokenRejected,
    RolloutRef,
    RolloutStatus,
)


@dataclass
class FakeArgoCD:
    """Applications by name, live Rollouts by (application, rollout name), and the aborts
    asked for; `rejected` answers every call as a refused token would."""

    apps: dict[str, ApplicationStatus] = field(default_factory=dict)
    rollouts: dict[tuple[str, str], RolloutStatus] = field(default_factory=dict)
    aborted: list[tuple[str, str]] = field(default_factory=list)
    rejected: bool = False

    def application(self, name: str) -> ApplicationStatus:
        if self.rejected:
            raise ArgoTokenRejected("Argo CD rejected the token")
        app = self.apps.get(name)
        if app is None:
            raise ApplicationNotFound(f"Argo CD has no Application {name!r}")
        return app

    def rollout(self, application: str, ref: RolloutRef) -> RolloutStatus | None:
        self.application(application)
        return self.rollouts.get((application, ref.name))

    def abort(self, application: str, ref: RolloutRef) -> None:
        self.application(application)
        self.aborted.append((application, ref.name))
