"""Calendar months for the forecasts: a month is named by its first day."""

from __future__ import annotations

from bisect import bisect_left
from calendar import monthrange
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from readmodel.figures.workdays import Calendar


def first_of(day: date) -> date:
    return day.replace(day=1)


def last_of(month: date) -> date:
    return month.replace(day=monthrange(month.year, month.month)[1])


def deal_span(close_date: date, today: date, weeks: int) -> tuple[date, date]:
    """A deal's expected delivery: from its close date (or today once that has passed) over
    its template's weeks, ending on the last day there is at most (a CRM's 9999-12-31 "no
    close date" must not end a span past it)."""
    begin, days = max(close_date, today), weeks * 7 - 1
    if begin > date.max - timedelta(days=days):
        return begin, date.max
    return begin, begin + timedelta(days=days)


def shifted(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month``'s (before it when ``n`` < 0)."""
    return _month(_index(month) + n)


def months_between(start: date, end: date) -> list[date]:
    """The first day of each month from ``start``'s to ``end``'s (none if ``end`` is before
    ``start``'s month), to December 9999 at most."""
    first, last = _index(start), _index(end)
    return [_month(i) for i in range(first, last + 1)]


def _index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


class Months:
    """The months of a period and their working days, for placing many spans in them: a span
    visits only the months it overlaps (a forecast places every open assignment and deal of a
    firm; most span a few of the period's months), and a month it covers whole costs no
    count."""

    def __init__(self, start: date, end: date, calendar: Calendar) -> None:
        self.calendar = calendar
        self.firsts = months_between(start, end)
        self.lasts = [last_of(m) for m in self.firsts]
        self.known = frozenset(self.firsts)
        self._whole = [calendar.days(f, t) for f, t in zip(self.firsts, self.lasts, strict=True)]

    def shares(self, first: date, last: date) -> Iterator[tuple[date, int]]:
        """(month, working days of ``first … last`` in it) for each month of the period with
        at least one."""
        n = bisect_left(self.lasts, first)  # the first month not over before ``first``
        while n < len(self.firsts) and self.firsts[n] <= last:
            month, month_last = self.firsts[n], self.lasts[n]
            if first <= month and month_last <= last:
                share = self._whole[n]
            else:
                share = self.calendar.days(max(first, month), min(last, month_last))
            if share:
                yield month, share
            n += 1
