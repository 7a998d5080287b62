"""Working days: Monday to Friday, no holiday calendar (a documented limit)."""

from __future__ import annotations

from datetime import date, timedelta

WORKING_DAYS_PER_WEEK = 5


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
    weeks, rest = divmod((end - start).days + 1, 7)
    # Any 7 consecutive days hold 5 weekdays; the remainder has the weekdays of its first days.
    tail = sum(1 for i in range(rest) if (start + timedelta(days=i)).weekday() < 5)
    return weeks * WORKING_DAYS_PER_WEEK + tail
