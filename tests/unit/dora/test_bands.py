"""Band thresholds (2024 report, the best cluster whose figure is met) and targets."""

from __future__ import annotations

import pytest

from code_engine.dora import bands
from code_engine.dora.bands import SEED_TARGETS, Band, Target


@pytest.mark.parametrize(
    ("hours", "band"),
    [
        (23.9, Band.ELITE),
        (24, Band.HIGH),
        (167.9, Band.HIGH),
        (168, Band.MEDIUM),
        (719, Band.MEDIUM),
        (720, Band.LOW),
    ],
)
def test_lead_time_band(hours: float, band: Band) -> None:
    assert bands.lead_time_band(hours) is band


@pytest.mark.parametrize(
    ("weekly", "monthly", "band"),
    [
        (7, None, Band.ELITE),
        (6, 26, Band.HIGH),
        (1, None, Band.HIGH),
        (0, 1, Band.MEDIUM),
        (0, 0, Band.LOW),
        (0, None, Band.LOW),
    ],
)
def test_deployment_frequency_band(weekly: float, monthly: float | None, band: Band) -> None:
    assert bands.deployment_frequency_band(weekly, monthly) is band


@pytest.mark.parametrize(
    ("percent", "band"),
    [
        (0, Band.ELITE),
        (5, Band.ELITE),
        (5.1, Band.HIGH),
        (10, Band.HIGH),  # meets medium's 10 % and high's 20 %: the better one
        (20, Band.HIGH),
        (20.01, Band.LOW),
    ],
)
def test_change_failure_rate_band(percent: float, band: Band) -> None:
    assert bands.change_failure_rate_band(percent) is band


@pytest.mark.parametrize(
    ("hours", "band"),
    [(0.99, Band.ELITE), (1, Band.HIGH), (23.9, Band.HIGH), (24, Band.LOW), (168, Band.LOW)],
)
def test_recovery_time_band(hours: float, band: Band) -> None:
    assert bands.recovery_time_band(hours) is band


def test_seed_targets() -> None:
    assert str(SEED_TARGETS.lead_time) == "< 48 hours"
    assert str(SEED_TARGETS.deployment_frequency) == "> 10 deployments/week"
    assert str(SEED_TARGETS.change_failure_rate) == "< 5 %"
    assert str(SEED_TARGETS.time_to_restore) == "< 1 hours"
    assert SEED_TARGETS.deployment_frequency.met_by(10.5)
    assert not SEED_TARGETS.deployment_frequency.met_by(10)
    assert not SEED_TARGETS.change_failure_rate.met_by(5)
    assert Target(">=", 3, "x").met_by(3)


def test_target_rejects_unknown_comparison() -> None:
    with pytest.raises(ValueError, match="comparison"):
        Target("==", 1, "x")
