"""The revenue forecast's placement (``readmodel.forecasts.revenue.forecast``) over random
rows: every part is the sum of its shares, the lag moves booked time without creating or
losing any, and a retainer's fees still to bill are exactly what is left of it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from readmodel.forecasts.months import first_of, shifted
from readmodel.forecasts.revenue import PARTS, forecast
from readmodel.forecasts.revenue_sources import Sources
from readmodel.forecasts.rules import Rules

TODAY = date(2026, 6, 17)
START, END = first_of(TODAY), date(2031, 12, 31)  # long enough to hold every row's months
DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))


def _weeks(_line: str | None) -> int:
    return 12


@st.composite
def _assignment(draw: Any, n: int) -> Any:
    first = draw(DAYS)
    last = first + timedelta(days=draw(st.integers(0, 500)))
    hours, rate = draw(st.integers(0, 200_000)), draw(st.integers(0, 50_000))
    return SimpleNamespace(
        id=n, currency="EUR", scheduled_hours_x100=hours, bill_rate_minor=rate,
        start_date=first, end_date=last, service_line=None,
    )  # fmt: skip


@st.composite
def _retainer(draw: Any, n: int) -> Any:
    first = draw(DAYS)
    last = first + timedelta(days=draw(st.integers(0, 800)))
    budget = draw(st.integers(0, 10**8))
    return SimpleNamespace(
        id=n, currency="EUR", budget_minor=budget, billed_minor=draw(st.integers(0, budget + 5)),
        start_date=first, end_date=last, service_line=None,
    )  # fmt: skip


def _sources(assignments: list[Any], retainers: list[Any]) -> Sources:
    return Sources([], [], [], retainers, assignments, [], [])


def _sum(found: dict[str, list[Any]], part: str) -> Decimal:
    return sum((m.parts[part].amount for ms in found.values() for m in ms), Decimal("0.00"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 10**6), min_size=0, max_size=6).flatmap(
        lambda ns: st.tuples(*(_assignment(n) for n in range(len(ns))))
    ),
    st.lists(st.integers(0, 10**6), min_size=0, max_size=6).flatmap(
        lambda ns: st.tuples(*(_retainer(n) for n in range(len(ns))))
    ),
    st.integers(0, 3),
)
def test_parts_are_their_shares_and_the_lag_only_moves_them(
    assignments: tuple[Any, ...], retainers: tuple[Any, ...], lag: int
) -> None:
    sources = _sources(list(assignments), list(retainers))
    placed = forecast(sources, START, END, TODAY, Rules(_weeks, time_billed_after=lag))
    unlagged = forecast(sources, START, END, TODAY, Rules(_weeks, time_billed_after=0))
    for months in placed.values():
        for m in months:
            assert m.total == sum((p.amount for p in m.parts.values()), Decimal("0.00"))
            for name in PARTS:
                part = m.parts[name]
                assert part.amount == sum(part.shares, Decimal("0.00"))
                assert len(part.sources) == len(part.shares)
    # booked time is the same money, only later; a month's share is the same cent either way
    assert _sum(placed, "time_and_materials") == _sum(unlagged, "time_and_materials")
    expected = sum(
        (Decimal(max(0, min(r.budget_minor - r.billed_minor, r.budget_minor))) / 100
         for r in retainers),
        Decimal("0.00"),
    )  # fmt: skip
    assert _sum(placed, "retainers") == expected  # every fee left falls in the long period
    for months in placed.values():
        for m in months:
            assert m.month >= START and (m.parts["retainers"].amount >= 0)
            if m.month < shifted(START, lag):
                assert m.parts["time_and_materials"].amount == 0  # worked from today on
