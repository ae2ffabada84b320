"""Failed sign-ins: free ones, doubling waits, a lockout that is served; bounded checks."""

from __future__ import annotations

import threading

import pytest

from code_engine.auth.throttle import FailureCounter, Lockout, LoginGuard, Throttled, ThrottlePolicy

POLICY = ThrottlePolicy(
    max_concurrent=1, wait_for_slot=0.01, free_failures=3, lockout_failures=6, lockout_seconds=60
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_waits_double_after_the_free_failures_then_lock_out() -> None:
    clock = Clock()
    counter = FailureCounter(POLICY, clock)
    waits = []
    lockouts: list[Lockout] = []
    for _ in range(6):
        lockouts += counter.failed(["k"])
        waits.append(counter.wait_for(["k"]))
    assert waits == [(0, False)] * 3 + [(1, False), (2, False), (60, True)]
    assert lockouts == [Lockout("k", 6, 1060.0)]
    clock.now += 61  # served: the next failure counts from one again
    assert counter.wait_for(["k"]) == (0, False)
    assert counter.failed(["k"]) == []
    assert counter.wait_for(["k"]) == (0, False)


def test_a_quiet_spell_forgets_failures_and_success_clears_a_name() -> None:
    clock = Clock()
    counter = FailureCounter(POLICY, clock)
    for _ in range(3):
        counter.failed(["k"])
    clock.now += 61
    counter.failed(["k"])
    assert counter.wait_for(["k"]) == (0, False)
    for _ in range(3):
        counter.failed(["k"])
    assert counter.wait_for(["k"])[0] > 0
    counter.succeeded(["k"])
    assert counter.wait_for(["k"]) == (0, False)


def test_the_guard_refuses_without_checking_and_reports() -> None:
    clock = Clock()
    reasons: list[str] = []
    locked: list[Lockout] = []
    guard = LoginGuard(POLICY, clock, on_throttled=reasons.append, on_lockout=locked.append)
    checks = 0

    def wrong() -> None:
        nonlocal checks
        checks += 1

    for _ in range(4):  # three free failures, and a fourth that sets a one-second wait
        assert guard.check("mallory", "10.0.0.1", wrong) is None
    with pytest.raises(Throttled) as caught:
        guard.check("mallory", "10.0.0.1", wrong)
    assert checks == 4  # refused before any check
    assert caught.value.retry_after >= 1
    assert reasons == ["backoff"]
    # another name from the same address waits as well; an unknown name costs the same path
    with pytest.raises(Throttled):
        guard.check("alice", "10.0.0.1", lambda: "account")
    assert guard.check("alice", "10.0.0.2", lambda: "account") == "account"


def test_excess_concurrent_checks_are_refused_busy() -> None:
    guard = LoginGuard(POLICY, Clock())
    inside, release = threading.Event(), threading.Event()

    def slow() -> str:
        inside.set()
        release.wait(5)
        return "ok"

    worker = threading.Thread(target=lambda: guard.check("a", "1", slow))
    worker.start()
    assert inside.wait(5)
    with pytest.raises(Throttled, match="busy"):
        guard.check("b", "2", lambda: "ok")
    release.set()
    worker.join(5)
    assert guard.check("b", "2", lambda: "ok") == "ok"
