"""Firm-wide KPIs of the sample firm over June 2026, per currency, worked out by hand.

The arithmetic of each expected value is in docs/formulas.md ("Portfolio KPIs").
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.figures import CurrencyKpis, PortfolioKpis, portfolio_kpis
from readmodel.figures.workdays import working_days
from readmodel.money import Money
from tests.readmodel.firm_builder import PERIOD, TODAY, build, sample_firm

R = Decimal


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


async def kpis(engine: AsyncEngine, start: date, end: date) -> PortfolioKpis:
    async with engine.connect() as conn:
        return await portfolio_kpis(conn, start, end, TODAY)


async def test_june_2026(engine: AsyncEngine) -> None:
    await build(engine, sample_firm)

    got = await kpis(engine, *PERIOD)

    assert (got.period_start, got.period_end) == PERIOD
    assert got.billable_hours == R("113.00")  # 31 PRJ-T + 20 PRJ-F + 40 PRJ-M + 10 PRJ-R + 12
    assert got.available_hours == R("316.80")  # (40 + 32) h a week × 22 working days ÷ 5
    assert got.utilization == R("0.3567")
    assert got.currencies == [
        CurrencyKpis(
            currency="EUR",
            bookings=eur("50000.00"),
            weighted_pipeline=eur("5000.00"),  # 20,000 × 25 %
            backlog=eur("60350.00"),  # 45,350 + 8,000 + 7,000 + 0
            billed=eur("33000.00"),  # INV-1 3,000 + INV-6 29,000 + INV-9 1,000
            collected=eur("3500.00"),  # 2,000 + 1,500
            overdue_balance=eur("11000.00"),
            ar_balance=eur("41000.00"),
            dso=R("37.27"),  # 41,000 ÷ 33,000 × 30
            realization=R("0.9091"),  # 4,000 ÷ 4,400
            collection_realization=R("0.1061"),  # 3,500 ÷ 33,000
        ),
        CurrencyKpis(
            currency="USD",
            bookings=usd("1000.00"),  # won on the period's last day
            weighted_pipeline=usd("110.00"),  # 333.33 × 33 % = 109.9989
            backlog=usd("2500.00"),
            billed=usd("0.00"),
            collected=usd("0.00"),
            overdue_balance=usd("500.00"),
            ar_balance=usd("500.00"),
            dso=None,
            realization=None,
            collection_realization=None,
        ),
    ]


async def test_an_empty_firm_has_no_currencies_and_no_utilization(engine: AsyncEngine) -> None:
    got = await kpis(engine, *PERIOD)

    assert got == PortfolioKpis(PERIOD[0], PERIOD[1], None, R("0.00"), R("0.00"), [])


async def test_a_period_must_not_end_before_it_starts(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="before it starts"):
        await kpis(engine, PERIOD[1], PERIOD[0])


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 6, 1), date(2026, 6, 30), 22),  # Monday to Tuesday
        (date(2026, 6, 6), date(2026, 6, 7), 0),  # a weekend
        (date(2026, 6, 5), date(2026, 6, 5), 1),  # one Friday
        (date(2026, 6, 6), date(2026, 6, 19), 10),  # Saturday to Friday, two weeks
        (date(2026, 6, 2), date(2026, 6, 1), 0),
        (date(2026, 1, 1), date(2026, 12, 31), 261),
    ],
)
def test_working_days(start: date, end: date, days: int) -> None:
    assert working_days(start, end) == days
