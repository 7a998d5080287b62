"""Robust statistics of a person's days: median, MAD and the robust z-score, exact in Decimal.

The median and the MAD of values in hundredths of an hour are exact (at most half a
hundredth); only the score is rounded, half-even to 0.01.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

MAD_TO_SIGMA = Decimal("1.4826")
"""Scales the MAD to a standard deviation for normally distributed data (1 ÷ Φ⁻¹(3/4))."""
SCORE_PLACES = Decimal("0.01")


def median(values: Sequence[Decimal]) -> Decimal:
    """The middle value; the mean of the two middle ones for an even count. Not for empty."""
    ordered = sorted(values)
    half = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[half]
    return (ordered[half - 1] + ordered[half]) / 2


def mad(values: Sequence[Decimal], centre: Decimal) -> Decimal:
    """Median absolute deviation from ``centre`` (the median)."""
    return median([abs(v - centre) for v in values])


def robust_score(value: Decimal, centre: Decimal, spread: Decimal) -> Decimal | None:
    """``|value − centre| ÷ (1.4826 × spread)`` to 0.01; ``None`` when the MAD is 0."""
    if not spread:
        return None
    score = abs(value - centre) / (MAD_TO_SIGMA * spread)
    return score.quantize(SCORE_PLACES, ROUND_HALF_EVEN)
