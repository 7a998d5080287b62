"""Working days: Monday to Friday, no holiday calendar (a documented limit)."""

from __future__ import annotations

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
