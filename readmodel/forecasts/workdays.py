"""Working days less the firm's holidays (``forecasts.holidays``) for the capacity and revenue
forecasts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from readmodel.figures.workdays import working_days


@dataclass(frozen=True)
class Calendar:
    """Mondays to Fridays, less ``holidays`` (those on a weekend change nothing)."""

    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, holidays: Iterable[date]) -> Calendar:
        return cls(frozenset(h for h in holidays if h.weekday() < 5))

    def days(self, first: date, last: date) -> int:
        """Working days from ``first`` to ``last``, both included, less holidays."""
        off = sum(1 for h in self.holidays if first <= h <= last)
        return max(0, working_days(first, last) - off)


NO_HOLIDAYS = Calendar()
"""Mondays to Fridays, every one a working day."""
