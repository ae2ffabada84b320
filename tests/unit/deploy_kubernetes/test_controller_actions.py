"""The GitOps controller's looks and actions against fakes of Argo CD and the GitOps pushes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from code_engine.deploy.controller.environment import ControllerConfig
from code_engine.deploy.environments import ManagedEnvironment
from code_engine.deploy.kubernetes.argocd import ApplicationStatus, RolloutRef, RolloutStatus
from code_engine.deploy.kubernetes.controller import GitOpsController
from code_engine.deploy.kubernetes.decide import Abort, Publish, Revert
from code_engine.deploy.kubernetes.errors import GitOpsUnreachable, PushRaceLost
from code_engine.deploy.kubernetes.state import GitOpsState, Phase, Release
from code_engine.deploy.rollout import Status
from code_engine.errors import ConflictError
from code_engine.testing import FakeArgoCD, FakeDelivery

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
REF = RolloutRef("shop", "shop")
RELEASE = Release("shop", "staging", "1.1.0", "a" * 40, "/repo", "shop-staging", (REF,))
COMMIT = "c" * 40


def controller(argocd: FakeArgoCD | None, delivery: FakeDelivery) -> GitOpsController:
    managed = ManagedEnvironment(1, 1, "shop", "staging", "kubernetes")
    db: Any = None  # looks and actions never touch the database
    return GitOpsController(db, managed, "me", delivery, lambda: argocd, ControllerConfig())


def test_look_reads_the_application_and_its_rollout() -> None:
    argo = FakeArgoCD()
    argo.apps["shop-staging"] = ApplicationStatus("shop-staging", "Synced", "Healthy", COMMIT, None)
    argo.rollouts[("shop-staging", "shop")] = RolloutStatus("shop", "Healthy", 5, 5, False, "")
    seen = controller(argo, FakeDelivery())._look(GitOpsState(7, RELEASE), abort=False)
    assert seen.app is not None
    assert seen.app.health == "Healthy"
    assert seen.rollouts[0] is not None
    assert seen.error is None


def test_look_reports_a_rejected_token_and_a_missing_argocd() -> None:
    seen = controller(FakeArgoCD(rejected=True), FakeDelivery())._look(
        GitOpsState(7, RELEASE), abort=True
    )
    assert (seen.app, seen.abort) == (None, True)
    assert "rejected the token" in (seen.error or "")
    missing = controller(None, FakeDelivery())._look(GitOpsState(7, RELEASE), abort=False)
    assert "CODE_ARGOCD_URL" in (missing.error or "")


def test_publish_then_a_push_that_fails() -> None:
    delivery = FakeDelivery()
    made = controller(FakeArgoCD(), delivery)
    state = made._act(GitOpsState(7, RELEASE), Publish(), "alice", NOW)
    assert (state.phase, state.commit) == (Phase.SYNC, f"{1:040x}")
    assert delivery.pushed == [("publish", 7, "alice")]
    delivery.failure = PushRaceLost("other commits landed first 3 times")
    failed = made._act(GitOpsState(8, RELEASE), Publish(), "alice", NOW)
    assert (failed.status, failed.message) == (Status.FAILED, "other commits landed first 3 times")


def test_a_revert_that_cannot_reach_the_remote_is_tried_again() -> None:
    delivery = FakeDelivery(failure=GitOpsUnreachable("connection refused"))
    made = controller(FakeArgoCD(), delivery)
    reverting = replace(GitOpsState(7, RELEASE), phase=Phase.REVERT, commit=COMMIT)
    state = made._act(reverting, Revert(COMMIT), "alice", NOW)
    assert state.phase is Phase.REVERT
    assert state.errors["revert"] == "connection refused"
    delivery.failure = ConflictError("later commits changed the same lines")
    given_up = made._act(reverting, Revert(COMMIT), "alice", NOW)
    assert given_up.status is Status.FAILED
    assert "the revert failed: later commits" in given_up.message
    delivery.failure = None
    done = made._act(reverting, Revert(COMMIT), "alice", NOW)
    assert (done.status, done.revert_commit) == (Status.ROLLED_BACK, f"{1:040x}")


def test_abort_through_argocd_and_its_failure_kept() -> None:
    argo = FakeArgoCD()
    argo.apps["shop-staging"] = ApplicationStatus(
        "shop-staging", "Synced", "Degraded", COMMIT, None
    )
    made = controller(argo, FakeDelivery())
    state = made._act(GitOpsState(7, RELEASE), Abort(REF), "alice", NOW)
    assert argo.aborted == [("shop-staging", "shop")]
    assert state.errors == {}
    argo.rejected = True
    kept = made._act(GitOpsState(7, RELEASE), Abort(REF), "alice", NOW)
    assert "rejected the token" in kept.errors["abort"]


def test_look_asks_whether_a_later_revision_includes_the_commit() -> None:
    argo = FakeArgoCD()
    argo.apps["shop-staging"] = ApplicationStatus(
        "shop-staging", "Synced", "Healthy", "e" * 40, None
    )
    delivery = FakeDelivery(later={"e" * 40})
    state = replace(GitOpsState(7, RELEASE), phase=Phase.SYNC, commit=COMMIT)
    assert controller(argo, delivery)._look(state, abort=False).contains is True
    delivery.later.clear()
    assert controller(argo, delivery)._look(state, abort=False).contains is False


def test_a_revert_pushed_to_a_side_branch_says_so() -> None:
    delivery = FakeDelivery(branch="code/revert-7")
    reverting = replace(GitOpsState(7, RELEASE), phase=Phase.REVERT, commit=COMMIT)
    done = controller(FakeArgoCD(), delivery)._act(reverting, Revert(COMMIT), "alice", NOW)
    assert done.status is Status.ROLLED_BACK
    assert "the revert is on branch code/revert-7: merge it" in done.message
