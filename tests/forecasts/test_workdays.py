"""The forecasts' day counting in closed form against counting the days one by one."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from readmodel.figures.workdays import Calendar, working_days
from readmodel.forecasts.months import Months

DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


def _one_by_one(first: date, last: date, off: frozenset[date] = frozenset()) -> int:
    count, day = 0, first
    while day <= last:
        count += day.weekday() < 5 and day not in off
        day += timedelta(days=1)
    return count


@given(DAYS, st.integers(min_value=-10, max_value=800))
def test_working_days_are_the_weekdays_counted_one_by_one(first: date, length: int) -> None:
    last = first + timedelta(days=length)
    assert working_days(first, last) == _one_by_one(first, last)


@given(DAYS, st.integers(min_value=-3, max_value=120), st.sets(st.integers(0, 130), max_size=8))
def test_a_calendar_leaves_out_its_weekday_holidays(first: date, length: int, off: set[int]):
    last = first + timedelta(days=length)
    holidays = frozenset(first + timedelta(days=n) for n in off)  # weekends among them
    assert Calendar(holidays).days(first, last) == _one_by_one(first, last, holidays)
    assert Calendar.of(holidays).days(first, last) == _one_by_one(first, last, holidays)


@given(
    DAYS,
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=-60, max_value=500),
    st.integers(min_value=0, max_value=300),
    st.sets(st.integers(0, 500), max_size=6),
)
def test_a_span_gets_each_months_working_days_and_skips_the_rest(
    start: date, period: int, offset: int, length: int, off: set[int]
) -> None:
    end = start + timedelta(days=period)
    calendar = Calendar.of(start + timedelta(days=n) for n in off)
    months = Months(start, end, calendar)
    first = start + timedelta(days=offset)
    last = first + timedelta(days=length)
    expected = {}
    for month, month_last in zip(months.firsts, months.lasts, strict=True):
        share = _one_by_one(max(first, month), min(last, month_last), calendar.holidays)
        if share:
            expected[month] = share
    assert dict(months.shares(first, last)) == expected
