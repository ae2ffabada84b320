"""Measuring many services at once for the dashboard, and how their figures are shown."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from code_engine.deploy.router.errors import RouterError
from code_engine.dora.operations import (
    Measured,
    Objective,
    RouterOperations,
    TrafficCounters,
    measure_many,
)
from code_engine.web.views import format_objective, objective_card

END = datetime(2026, 11, 2, tzinfo=timezone.utc)
START = END - timedelta(days=30)


class Source:
    """Answers per service: figures, an exception, or never (until released)."""

    name = "prometheus"

    def __init__(self, answers: dict[str, Measured | Exception | None]) -> None:
        self.answers = answers
        self.release = threading.Event()
        self.asked: list[tuple[str, str, datetime, datetime]] = []

    def measure(self, service: str, environment: str, start: datetime, end: datetime) -> Measured:
        self.asked.append((service, environment, start, end))
        answer = self.answers[service]
        if answer is None:
            self.release.wait(10)
            return Measured()
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_reports_keep_the_order_and_say_why_figures_are_missing() -> None:
    source = Source({
        "api": Measured(99.95, 120.0, 0.05),
        "slow": None,
        "down": RouterError("router control unreachable"),
        "buggy": ValueError("oops"),
    })  # fmt: skip
    services = [("api", ""), ("slow", ""), ("down", ""), ("buggy", "")]
    try:
        reports = measure_many(
            services, source, environment="prod", start=START, end=END, timeout=0.5
        )
    finally:
        source.release.set()
    assert [r.service for r in reports] == ["api", "slow", "down", "buggy"]
    assert {(s, e, a, b) for s, e, a, b in source.asked} == {
        (name, "prod", START, END) for name, _ in services
    }
    api, slow, down, buggy = reports
    assert [o.passed for o in api.objectives] == [True, True, True]
    assert api.note.startswith("default SLOs") and api.source == "prometheus"
    assert slow.note.startswith("prometheus did not answer within 0.5 s")
    assert down.note.startswith("router control unreachable")
    assert buggy.note.startswith("prometheus failed: ValueError")
    for report in (slow, down, buggy):
        assert [o.value for o in report.objectives] == [None, None, None]


class NoRouter:
    """Router statistics whose router cannot be reached."""

    def counters(self, service: str, environment: str) -> TrafficCounters:
        raise RouterError(f"no router for {service}/{environment}")


def test_router_figures_say_what_they_cover() -> None:
    source = RouterOperations(NoRouter())
    [report] = measure_many([("api", "")], source, environment="prod", start=START, end=END)
    assert report.source == "router"
    assert report.note.startswith("router counters since their last reset; uptime needs")
    assert "no router" in report.note
    assert measure_many([], source, environment="prod", start=START, end=END) == []


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("uptime", None, "–"),
        ("uptime", 99.999, "99.99"),  # never rounded up to a met 100 % SLO
        ("uptime", 100.0, "100.00"),
        ("uptime", 87.5, "87.50"),
        ("error_rate", 0.0, "0.00"),
        ("error_rate", 0.0004, "< 0.001"),
        ("error_rate", 0.05, "0.05"),
        ("error_rate", 0.0123, "0.012"),
        ("error_rate", 5.0, "5.00"),
        ("p95_latency", 75.2, "75.2"),
        ("p95_latency", 1234.0, "1234"),
    ],
)
def test_figures_are_shown_with_the_digits_their_slo_needs(
    key: str, value: float | None, shown: str
) -> None:
    assert format_objective(key, value) == shown


def test_cards_are_coloured_by_their_verdict() -> None:
    def card(passed: bool | None) -> tuple[str, str]:
        value = None if passed is None else 99.0
        made = objective_card(Objective("uptime", "Uptime", value, "%", ">= 99.9 %", passed))
        return made.state, made.target

    assert card(True) == ("met", "≥ 99.9 %")
    assert card(False) == ("missed", "≥ 99.9 %")
    assert card(None) == ("none", "≥ 99.9 %")
