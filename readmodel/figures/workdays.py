"""Working days: Monday to Friday, less the firm's holidays where a ``Calendar`` is given
(``forecasts.holidays``: the capacity and revenue forecasts, the portfolio's utilization)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

WORKING_DAYS_PER_WEEK = 5


def weekdays_before(day: date) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday) up to the day before ``day``.

    Closed form, so that a forecast placing tens of thousands of rows in months counts days
    in constant time: every full week holds five, the part-week the weekdays of its first days.
    """
    weeks, rest = divmod(day.toordinal() - 1, 7)
    return weeks * WORKING_DAYS_PER_WEEK + min(rest, WORKING_DAYS_PER_WEEK)


def working_days(start: date, end: date) -> int:
    """Mondays to Fridays from ``start`` to ``end``, both included (0 if ``end < start``).

    Args:
        start: First day of the period.
        end: Last day of the period.

    Returns:
        The number of weekdays in the period.
    """
    if end < start:
        return 0
    return weekdays_before(end) + (end.weekday() < 5) - weekdays_before(start)


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
