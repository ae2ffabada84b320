"""The refresher's loop and the DORA collector reading it, with injected clocks."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from code_engine.dora.events import DeploymentEvent, DeploymentStatus
from code_engine.dora.gauges import DoraCollector
from code_engine.dora.metrics import FourKeys, compute_four_keys
from code_engine.observe.refresher import Refresher
from code_engine.settings import Settings

T0 = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)


class Clocks:
    """A wall clock and a monotonic counter that the computation itself advances."""

    def __init__(self) -> None:
        self.now = T0
        self.ticks = 100.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.ticks


def _keys(service: str = "api") -> FourKeys:
    deploys = [
        DeploymentEvent(f"d{n}", service, "prod", DeploymentStatus.SUCCEEDED,
                        T0 - timedelta(days=n), T0 - timedelta(days=n))
        for n in range(1, 4)
    ]  # fmt: skip
    return compute_four_keys(
        deploys, [], [], service=service, start=T0 - timedelta(days=30), end=T0
    )


def test_a_refresh_records_the_value_its_time_and_duration() -> None:
    clocks = Clocks()
    asked: list[datetime] = []

    def compute(now: datetime) -> int:
        asked.append(now)
        clocks.ticks += 2.5  # the computation takes 2.5 s
        return len(asked)

    refresher = Refresher("test", compute, clocks.wall, interval=60, monotonic=clocks.monotonic)
    assert refresher.snapshot is None
    assert refresher.refresh()
    first = refresher.snapshot
    assert first is not None and (first.value, first.at, first.seconds) == (1, T0, 2.5)
    clocks.now = T0 + timedelta(minutes=1)
    assert refresher.refresh()
    assert refresher.snapshot is not None and refresher.snapshot.at == T0 + timedelta(minutes=1)
    assert asked == [T0, T0 + timedelta(minutes=1)]


def test_a_failed_refresh_keeps_the_last_values_and_their_age() -> None:
    clocks = Clocks()
    answers: list[object] = [["a"], RuntimeError("database gone")]

    def compute(_now: datetime) -> list[str]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    refresher = Refresher("test", compute, clocks.wall, interval=60, monotonic=clocks.monotonic)
    assert refresher.refresh()
    clocks.now = T0 + timedelta(hours=1)
    assert not refresher.refresh()
    assert refresher.snapshot is not None
    assert (refresher.snapshot.value, refresher.snapshot.at) == (["a"], T0)


def test_the_loop_computes_at_once_then_waits_the_interval_after_each() -> None:
    clocks = Clocks()
    computed: list[datetime] = []
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        clocks.now += timedelta(seconds=seconds)
        return len(waits) > 3  # stop asked during the fourth wait

    refresher = Refresher(
        "test", computed.append, clocks.wall, interval=45, monotonic=clocks.monotonic
    )
    refresher.run(wait)
    assert waits == [0.0, 45, 45, 45]
    assert computed == [T0, T0 + timedelta(seconds=45), T0 + timedelta(seconds=90)]


def test_the_loop_survives_failures() -> None:
    calls: list[int] = []
    waits: list[float] = []

    def compute(_now: datetime) -> None:
        calls.append(1)
        raise ValueError("boom")

    refresher = Refresher("test", compute, Clocks().wall, interval=5)
    refresher.run(lambda s: waits.append(s) or len(waits) > 2)  # type: ignore[func-returns-value]
    assert len(calls) == 2 and refresher.snapshot is None


def test_stop_ends_the_thread_after_the_computation_in_progress() -> None:
    entered, release = threading.Event(), threading.Event()

    def compute(_now: datetime) -> str:
        entered.set()
        release.wait(10)
        return "done"

    refresher = Refresher("code-test-refresher", compute, Clocks().wall, interval=3600)
    refresher.start()
    refresher.start()  # already running: no second thread
    assert entered.wait(10)
    assert [t.name for t in threading.enumerate()].count("code-test-refresher") == 1
    assert not refresher.stop(timeout=0.05)  # still computing
    release.set()
    refresher.start()
    assert refresher.stop(timeout=10)
    assert refresher.stop()  # stopping twice is harmless
    assert "code-test-refresher" not in [t.name for t in threading.enumerate()]
    assert refresher.snapshot is not None and refresher.snapshot.value == "done"


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Refresher("test", lambda _now: None, Clocks().wall, interval=0)


def test_a_scrape_reads_the_last_refresh_and_never_computes() -> None:
    clocks = Clocks()
    computed: list[datetime] = []

    def compute(now: datetime) -> list[FourKeys]:
        computed.append(now)
        clocks.ticks += 1.25
        return [_keys()]

    refresher = Refresher("test", compute, clocks.wall, interval=60, monotonic=clocks.monotonic)
    collector = DoraCollector(refresher)
    before = {f.name: f.samples for f in collector.collect()}
    assert before["code_dora_deployments"] == []
    assert before["code_dora_metrics_last_refresh_timestamp_seconds"] == []
    assert computed == []
    refresher.refresh()
    for _ in range(3):
        after = {f.name: f.samples for f in collector.collect()}
    assert len(computed) == 1
    [deployments] = after["code_dora_deployments"]
    assert deployments.labels == {"service": "api", "environment": "prod"}
    assert deployments.value == 3
    [seconds] = after["code_dora_metrics_refresh_seconds"]
    [stamp] = after["code_dora_metrics_last_refresh_timestamp_seconds"]
    assert (seconds.value, stamp.value) == (1.25, T0.timestamp())
    described = {f.name for f in collector.describe()}
    assert described == set(after) and len(computed) == 1


@pytest.mark.parametrize("value", ["0.5", "-1", "90000"])
def test_refresh_setting_refuses_what_would_spin_or_never_run(value: str) -> None:
    with pytest.raises(ValidationError, match="dora_metrics_refresh_seconds"):
        Settings(dora_metrics_refresh_seconds=value)  # type: ignore[arg-type]


def test_refresh_setting_defaults_to_a_minute_and_zero_turns_it_off() -> None:
    assert Settings().dora_metrics_refresh_seconds == 60
    assert Settings(dora_metrics_refresh_seconds=0).dora_metrics_refresh_seconds == 0
