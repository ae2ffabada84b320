from __future__ import annotations

from code_engine.deploy.local.backoff import RestartPolicy


def test_rapid_crashes_double_the_delay_up_to_the_cap_then_give_up() -> None:
    policy = RestartPolicy(
        initial_delay=1, max_delay=3, factor=2, rapid_window=10, max_rapid_crashes=5
    )
    streak, delays = 0, []
    for _ in range(5):
        decision = policy.after_crash(streak, uptime=0.5)
        streak = decision.streak
        delays.append(decision.delay)
    assert delays == [1, 2, 3, 3, None]
    assert policy.after_crash(3, uptime=1).give_up is False
    assert policy.after_crash(4, uptime=1).give_up is True


def test_a_crash_after_a_stable_run_starts_over() -> None:
    policy = RestartPolicy(initial_delay=0.5, rapid_window=10)
    decision = policy.after_crash(streak=4, uptime=60)
    assert (decision.delay, decision.streak) == (0.5, 0)
