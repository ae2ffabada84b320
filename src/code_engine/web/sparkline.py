"""Inline SVG sparklines: polyline segments scaled into a small box (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sparkline:
    """`segments` are SVG `points` strings, split where a value is missing."""

    width: int
    height: int
    segments: tuple[str, ...]
    last: tuple[float, float] | None
    low: float | None
    high: float | None


def sparkline(values: Sequence[float | None], width: int = 120, height: int = 28) -> Sparkline:
    """Scale `values` (oldest first) between their minimum and maximum, 2 px inset."""
    present = [v for v in values if v is not None]
    if not present:
        return Sparkline(width, height, (), None, None, None)
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)
    segments: list[list[str]] = [[]]
    last: tuple[float, float] | None = None
    for index, value in enumerate(values):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        x = 2 + index * step
        y = height - 2 - (value - low) / span * (height - 4)
        last = (round(x, 1), round(y, 1))
        segments[-1].append(f"{last[0]},{last[1]}")
    return Sparkline(width, height, tuple(" ".join(s) for s in segments if s), last, low, high)
