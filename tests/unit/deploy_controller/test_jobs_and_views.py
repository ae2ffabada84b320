"""Background jobs of the controller and the views of a deployment."""

from __future__ import annotations

import errno
import threading
from dataclasses import replace
from datetime import timedelta

from code_engine.deploy.controller.jobs import Jobs
from code_engine.deploy.local import InstanceStartError
from code_engine.deploy.rollout import (
    Analysis,
    AnalysisSpec,
    Canary,
    Pause,
    Phase,
    RolloutSpec,
    SetWeight,
    new_rollout,
    state_to_dict,
)
from code_engine.deploy.views import progress


def test_one_job_per_key_and_failures_are_kept() -> None:
    jobs = Jobs()
    release = threading.Event()
    assert jobs.start("k", release.wait, "wait")
    assert not jobs.start("k", lambda: None, "again")
    assert jobs.running("k")
    release.set()
    jobs.join(5)
    assert not jobs.running("k")

    def fail() -> None:
        raise RuntimeError("no such command")

    jobs.start("bad", fail, "bad")
    jobs.join(5)
    failure = jobs.failure("bad")
    assert failure is not None and failure.error == "no such command"
    jobs.clear("bad")
    assert jobs.failure("bad") is None


def test_progress_of_a_rollout() -> None:
    plan = Canary((SetWeight(20), Pause(None), Analysis(AnalysisSpec(count=3))))
    rollout = new_rollout("1", "v2", "v1", RolloutSpec(plan))
    shown = progress({**state_to_dict(rollout), "launch": {}, "url": "http://127.0.0.1:1"})
    assert shown is not None
    assert shown["plan"] == ["set_weight 20%", "pause", "analysis 3x60s"]
    assert (shown["step"], shown["steps"], shown["current_step"]) == (1, 3, "set_weight 20%")
    assert (shown["canary"], shown["stable"], shown["weight"]) == ("v2", "v1", 0)
    assert shown["url"] == "http://127.0.0.1:1"
    assert progress({}) is None
    assert progress({"format": 1, "phase": "stepping"}) is None  # a recorded deployment
    assert progress({"launch": {}, "format": 1, "phase": "stepping"}) is None  # damaged


def test_failures_say_whether_trying_again_may_help() -> None:
    jobs = Jobs()

    def shortage() -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    def not_ready() -> None:
        raise InstanceStartError("v2 instance 0 not ready within 2 s", ["log"], kind="not_ready")

    jobs.start("a", shortage, "a")
    jobs.start("b", not_ready, "b")
    jobs.join(5)
    a, b = jobs.failure("a"), jobs.failure("b")
    assert a is not None and a.retryable
    assert b is not None and not b.retryable and b.kind == "not_ready"
    assert b.summary == "v2 instance 0 not ready within 2 s"  # without the log lines


def test_an_analysis_step_tells_the_traffic_it_needs() -> None:
    spec = AnalysisSpec(interval=timedelta(seconds=10), count=3, min_requests=50)
    rollout = replace(
        new_rollout("1", "v2", "v1", RolloutSpec(Canary((SetWeight(20), Analysis(spec))))),
        phase=Phase.STEPPING,
        step_index=1,
        current_weight=20,
    )
    shown = progress({**state_to_dict(rollout), "launch": {}})
    assert shown is not None
    assert shown["traffic_needed"] == {"requests_per_second": 25.0, "seconds": 30.0}
    first = progress({**state_to_dict(replace(rollout, step_index=0)), "launch": {}})
    assert first is not None and first["traffic_needed"] is None
