"""The shared test helpers hold what they promise: waits fail in time, missing components skip
or fail as CI demands, and CI's Hypothesis profile drops only the timing checks."""

from __future__ import annotations

import itertools
import socket

import pytest
from hypothesis import HealthCheck, settings
from tests.support import components, waiting
from tests.support.network import free_port


def test_wait_until_returns_the_first_truthy_value() -> None:
    calls = itertools.count()
    assert waiting.wait_until(lambda: next(calls) >= 3 and "ready", 5, "three polls", 0.001)


def test_wait_until_fails_after_its_deadline_naming_what_it_waited_for() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"after 0\.05s waiting for the moon"):
        waiting.wait_until(lambda: False, 0.05, "the moon", 0.01)


def test_holds_for_fails_the_moment_the_condition_breaks() -> None:
    calls = itertools.count()
    with pytest.raises(pytest.fail.Exception, match="quiet stopped holding"):
        waiting.holds_for(lambda: next(calls) < 3, 30, "quiet", 0.001)
    waiting.holds_for(lambda: True, 0.02, "always", 0.005)


def test_a_missing_component_skips_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODE_TEST_REQUIRE_HAPROXY", raising=False)
    with pytest.raises(pytest.skip.Exception, match="CODE_TEST_REQUIRE_HAPROXY=1 turns"):
        components.binary("no-such-haproxy", "haproxy", "apt-get install haproxy")
    monkeypatch.setenv("CODE_TEST_REQUIRE_HAPROXY", "1")
    with pytest.raises(pytest.fail.Exception, match="CODE_TEST_REQUIRE_HAPROXY=1 but no"):
        components.binary("no-such-haproxy", "haproxy", "apt-get install haproxy")


def test_a_present_component_is_found() -> None:
    assert components.binary("git", "git", "apt-get install git").endswith("/git")


def test_the_ci_profile_drops_only_the_timing_checks() -> None:
    ci, default = settings.get_profile("ci"), settings.get_profile("default")
    assert ci.deadline is None and list(ci.suppress_health_check) == [HealthCheck.too_slow]
    assert (ci.max_examples, ci.derandomize, ci.phases) == (
        default.max_examples,
        default.derandomize,
        default.phases,
    )


def test_a_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
