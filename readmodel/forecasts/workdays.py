"""Working days less the firm's holidays (``forecasts.holidays``) for the capacity and revenue
forecasts."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from readmodel.figures.workdays import working_days


@dataclass(frozen=True)
class Calendar:
    """Mondays to Fridays, less ``holidays`` (those on a weekend change nothing)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    _sorted: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weekdays = sorted(h for h in self.holidays if h.weekday() < 5)
        object.__setattr__(self, "_sorted", tuple(weekdays))

    @classmethod
    def of(cls, holidays: Iterable[date]) -> Calendar:
        return cls(frozenset(h for h in holidays if h.weekday() < 5))

    def days(self, first: date, last: date) -> int:
        """Working days from ``first`` to ``last``, both included, less holidays."""
        if last < first:
            return 0
        off = bisect_right(self._sorted, last) - bisect_left(self._sorted, first)
        return working_days(first, last) - off


NO_HOLIDAYS = Calendar()
"""Mondays to Fridays, every one a working day."""
