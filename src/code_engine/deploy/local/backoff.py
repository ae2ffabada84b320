"""When to restart a crashed instance: exponential backoff, and when to give up.

Written here rather than taken from a retry library: those wrap a call and sleep, while the
supervisor needs a pure decision from a crash streak that it stores between passes (and
across restarts of the controller), in a few lines with no dependency.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RestartDecision:
    """Restart after `delay` seconds, or give up (`delay` is None); `streak` carries on."""

    delay: float | None
    streak: int

    @property
    def give_up(self) -> bool:
        return self.delay is None


@dataclass(frozen=True)
class RestartPolicy:
    """A crash within `rapid_window` seconds of the start is rapid; rapid crashes double the
    delay (up to `max_delay`), and `max_rapid_crashes` of them in a row give up."""

    initial_delay: float = 0.5
    max_delay: float = 30.0
    factor: float = 2.0
    rapid_window: float = 10.0
    max_rapid_crashes: int = 5

    def after_crash(self, streak: int, uptime: float) -> RestartDecision:
        """Decide for an instance that ran `uptime` seconds after `streak` rapid crashes."""
        if uptime >= self.rapid_window:
            return RestartDecision(self.initial_delay, 0)
        streak += 1
        if streak >= self.max_rapid_crashes:
            return RestartDecision(None, streak)
        delay = min(self.max_delay, self.initial_delay * self.factor ** (streak - 1))
        return RestartDecision(delay, streak)
