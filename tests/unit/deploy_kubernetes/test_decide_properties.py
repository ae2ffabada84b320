"""Properties of the GitOps decision over any sequence of what Argo CD reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from code_engine.deploy.kubernetes.argocd import ApplicationStatus, RolloutRef, RolloutStatus
from code_engine.deploy.kubernetes.decide import (
    Abort,
    Publish,
    Revert,
    Seen,
    decide,
    published,
    reverted,
)
from code_engine.deploy.kubernetes.state import GitOpsState, Phase, Release
from code_engine.deploy.rollout import Status

START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
COMMIT = "c" * 40
REVERT = "d" * 40
REF = RolloutRef("shop", "shop")
RELEASE = Release("shop", "staging", "1.1.0", "a" * 40, "/repo", "shop-staging", (REF,))

looks = st.builds(
    lambda health, sync, at_commit, phase, abort, gap: (
        Seen(
            ApplicationStatus(
                "shop-staging", sync, health, COMMIT if at_commit else "b" * 40, "Succeeded"
            ),
            (RolloutStatus("shop", phase, 1, 5, False, ""),),
            abort=abort,
        ),
        gap,
    ),
    st.sampled_from(["Healthy", "Progressing", "Degraded", "Missing"]),
    st.sampled_from(["Synced", "OutOfSync"]),
    st.booleans(),
    st.sampled_from(["Healthy", "Progressing", "Paused", "Degraded"]),
    st.booleans(),
    st.integers(0, 600),
) | st.builds(lambda gap: (Seen(error="connection refused"), gap), st.integers(0, 600))


@given(st.lists(looks, max_size=20))
def test_one_commit_at_most_one_revert_and_final_states_stay(
    history: list[tuple[Seen, int]],
) -> None:
    state = GitOpsState(7, RELEASE)
    now = START
    pushes = reverts = 0
    for seen, gap in [(Seen(), 0), *history]:
        now += timedelta(seconds=gap)
        before = state
        decision = decide(state, seen, now)
        state = decision.state
        for action in decision.actions:
            if isinstance(action, Publish):
                pushes += 1
                state = published(state, COMMIT, "main", False, now)
            elif isinstance(action, Revert):
                assert action.commit == COMMIT  # only its own commit is ever reverted
                reverts += 1
                state = reverted(state, REVERT, now)
            else:
                assert isinstance(action, Abort)
        if before.status.terminal:
            assert decision.actions == ()
            assert state == before
        if state.status is Status.SUCCEEDED and not before.status.terminal:
            assert seen.app is not None
            assert (seen.app.health, seen.app.revision) == ("Healthy", COMMIT)
        if state.status.terminal:
            assert state.phase is Phase.DONE
            assert state.finished_at is not None
    assert pushes == 1
    assert reverts <= 1
    if reverts:
        assert state.status in (Status.ROLLED_BACK, Status.FAILED)
        assert state.revert_commit == REVERT
