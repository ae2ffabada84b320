"""The GitOps deployment's decision, from Argo CD's words to CODE's states."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from code_engine.deploy.kubernetes.argocd import (
    AnalysisRunStatus,
    ApplicationStatus,
    RolloutRef,
    RolloutStatus,
)
from code_engine.deploy.kubernetes.decide import (
    Abort,
    Publish,
    Revert,
    Seen,
    decide,
    failed_to_push,
    published,
    reverted,
)
from code_engine.deploy.kubernetes.state import GitOpsState, Phase, Release
from code_engine.deploy.rollout import Status

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
COMMIT = "c" * 40
REF = RolloutRef("shop", "shop")
RELEASE = Release("shop", "staging", "1.1.0", "a" * 40, "/repo", "shop-staging", (REF,))


def synced(
    health: str = "Healthy", revision: str = COMMIT, sync: str = "Synced"
) -> ApplicationStatus:
    return ApplicationStatus("shop-staging", sync, health, revision, "Succeeded", revision)


def rollout(phase: str, step: int | None = None, *runs: AnalysisRunStatus) -> RolloutStatus:
    return RolloutStatus("shop", phase, step, 5, False, "", runs)


def pushed() -> GitOpsState:
    return published(GitOpsState(7, RELEASE), COMMIT, "main", False, NOW)


def test_a_new_deployment_publishes() -> None:
    decision = decide(GitOpsState(7, RELEASE), Seen(), NOW)
    assert decision.actions == (Publish(),)


def test_a_rollback_deployment_pushes_the_revert() -> None:
    state = GitOpsState(8, RELEASE, revert_of=COMMIT)
    assert decide(state, Seen(), NOW).actions == (Revert(COMMIT),)


def test_published_then_waits_for_the_sync() -> None:
    state = pushed()
    assert (state.phase, state.status, state.commit) == (Phase.SYNC, Status.PROGRESSING, COMMIT)
    seen = Seen(synced(revision="b" * 40, sync="OutOfSync"), (None,))
    decision = decide(state, seen, NOW)
    assert decision.actions == ()
    assert decision.state.status is Status.PROGRESSING
    assert "waiting for Argo CD to sync cccccccccccc" in decision.state.message


def test_healthy_at_the_commit_succeeds() -> None:
    decision = decide(pushed(), Seen(synced(), (rollout("Healthy", 5),)), NOW)
    assert decision.state.status is Status.SUCCEEDED
    assert decision.state.phase is Phase.DONE
    assert decision.state.finished_at == NOW


def test_paused_at_a_step() -> None:
    decision = decide(pushed(), Seen(synced("Progressing"), (rollout("Paused", 1),)), NOW)
    assert decision.state.status is Status.PAUSED
    assert decision.state.step == 1
    assert "paused at step 2/5" in decision.state.message


def test_progressing() -> None:
    decision = decide(pushed(), Seen(synced("Progressing"), (rollout("Progressing", 2),)), NOW)
    assert decision.state.status is Status.PROGRESSING


def test_degraded_aborts_and_reverts() -> None:
    decision = decide(pushed(), Seen(synced("Degraded"), (rollout("Degraded", 2),)), NOW)
    assert decision.state.phase is Phase.REVERT
    assert decision.actions == (Abort(REF), Revert(COMMIT))
    done = reverted(decision.state, "d" * 40, NOW)
    assert (done.status, done.reason, done.revert_commit) == (
        Status.ROLLED_BACK,
        "degraded",
        "d" * 40,
    )


def test_failed_analysis_rolls_back_even_before_degraded() -> None:
    run = AnalysisRunStatus("shop-17-2", "Failed", "error-rate assessed Failed")
    decision = decide(pushed(), Seen(synced("Progressing"), (rollout("Progressing", 2, run),)), NOW)
    assert decision.state.reason == "analysis failed"
    assert "shop-17-2 Failed" in decision.state.message
    assert decision.actions == (Abort(REF), Revert(COMMIT))


def test_a_person_aborts() -> None:
    decision = decide(pushed(), Seen(synced("Progressing"), (), abort=True), NOW)
    assert decision.actions == (Abort(REF), Revert(COMMIT))
    assert decision.state.outcome is Status.ROLLED_BACK


def test_abort_before_publishing_pushes_nothing() -> None:
    decision = decide(GitOpsState(7, RELEASE), Seen(abort=True), NOW)
    assert decision.actions == ()
    assert decision.state.status is Status.FAILED


def test_progress_deadline() -> None:
    late = NOW + timedelta(hours=1)
    decision = decide(pushed(), Seen(synced("Progressing"), ()), late)
    assert decision.state.reason == "progress deadline exceeded"
    assert decision.state.outcome is Status.FAILED


def test_argo_unreadable_keeps_the_state() -> None:
    decision = decide(pushed(), Seen(error="connection refused"), NOW)
    assert decision.state.status is Status.PROGRESSING
    assert "connection refused" in decision.state.message


def test_a_failed_rollback_is_not_reverted_again() -> None:
    state = published(GitOpsState(8, RELEASE, revert_of=COMMIT), "e" * 40, "main", False, NOW)
    decision = decide(state, Seen(synced("Degraded", "e" * 40), ()), NOW)
    assert decision.actions == ()
    assert decision.state.status is Status.FAILED


def test_side_branch_pauses_until_merged() -> None:
    state = published(GitOpsState(7, RELEASE), COMMIT, "code/deploy-7", True, NOW)
    assert state.status is Status.PAUSED
    decision = decide(state, Seen(synced(revision="b" * 40), ()), NOW)
    assert decision.state.status is Status.PAUSED
    assert "merge it" in decision.state.message


def test_push_failure_fails_the_deployment() -> None:
    state = failed_to_push(GitOpsState(7, RELEASE), "push race lost", NOW)
    assert (state.status, state.phase, state.commit) == (Status.FAILED, Phase.DONE, None)


def test_state_round_trips() -> None:
    state = replace(pushed(), outcome=Status.ROLLED_BACK, errors={"argocd": "x"})
    assert GitOpsState.from_dict(state.to_dict()) == state


def test_a_later_revision_that_includes_the_commit_counts() -> None:
    later = synced(revision="e" * 40)
    waiting = decide(pushed(), Seen(later, (rollout("Healthy", 5),), contains=False), NOW)
    assert waiting.state.status is Status.PROGRESSING
    done = decide(pushed(), Seen(later, (rollout("Healthy", 5),), contains=True), NOW)
    assert done.state.status is Status.SUCCEEDED
