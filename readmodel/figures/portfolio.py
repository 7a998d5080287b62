"""Firm-wide KPIs over a period: utilization, and per currency bookings to DSO.

Formulas and worked examples: docs/formulas.md, "Portfolio KPIs".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.enums import EngagementStatus
from readmodel.figures.engagements import engagement_figures_where
from readmodel.figures.numbers import ZERO_MONEY, per_10k, ratio
from readmodel.figures.portfolio_sums import currency_sums, weekly_capacity_x100
from readmodel.figures.sql import ENGAGEMENT
from readmodel.figures.workdays import NO_HOLIDAYS, WORKING_DAYS_PER_WEEK, Calendar
from readmodel.money import CENTS, Money, hours_to_decimal, value_of_time

BACKLOG_ENGAGEMENTS = (EngagementStatus.SIGNED, EngagementStatus.ACTIVE)


@dataclass(frozen=True)
class CurrencyKpis:
    """The period's KPIs in one currency (amounts are never converted)."""

    currency: str
    bookings: Money
    weighted_pipeline: Money
    backlog: Money
    billed: Money
    collected: Money
    overdue_balance: Money
    ar_balance: Money
    dso: Decimal | None
    realization: Decimal | None
    collection_realization: Decimal | None


@dataclass(frozen=True)
class PortfolioKpis:
    """The firm at a glance over ``period_start`` to ``period_end`` (both included)."""

    period_start: date
    period_end: date
    utilization: Decimal | None
    billable_hours: Decimal
    available_hours: Decimal
    currencies: list[CurrencyKpis]


async def portfolio_kpis(
    conn: AsyncConnection,
    period_start: date,
    period_end: date,
    today: date,
    calendar: Calendar = NO_HOLIDAYS,
) -> PortfolioKpis:
    """The firm's KPIs over a period, in 10 statements whatever the size of the firm.

    Args:
        conn: An open connection to the read model.
        period_start: First day of the period.
        period_end: Last day of the period (included); not before ``period_start``.
        today: The date overdue balances are measured against.
        calendar: The working days: Mondays to Fridays less the firm's holidays
            (``forecasts.holidays``, as the capacity forecast counts them).

    Returns:
        Utilization over all people, and one ``CurrencyKpis`` per currency, sorted by code.
    """
    if period_end < period_start:
        raise ValueError(f"period ends ({period_end}) before it starts ({period_start})")
    sums = await currency_sums(conn, period_start, period_end, today)
    capacity = await weekly_capacity_x100(conn)
    backlog = await backlog_by_currency(conn)
    billable = hours_to_decimal(sum(s.get("billable_hours_x100", 0) for s in sums.values()))
    available = available_hours(capacity, calendar.days(period_start, period_end))
    days = (period_end - period_start).days + 1
    currencies = [
        currency_kpis(c, sums.get(c, {}), backlog.get(c, ZERO_MONEY), days)
        for c in sorted(set(sums) | set(backlog))
    ]
    return PortfolioKpis(
        period_start, period_end, ratio(billable, available), billable, available, currencies
    )


def available_hours(weekly_capacity_x100: int, days: int) -> Decimal:
    """Σ weekly capacity × working days ÷ 5, in hours rounded half-even to 0.01."""
    hundredths = Decimal(weekly_capacity_x100 * days) / WORKING_DAYS_PER_WEEK
    return (hundredths / 100).quantize(CENTS, ROUND_HALF_EVEN)


async def backlog_by_currency(conn: AsyncConnection) -> dict[str, Decimal]:
    """Σ backlog of the signed and active engagements, per currency (5 statements)."""
    where = ENGAGEMENT.c.status.in_(BACKLOG_ENGAGEMENTS)
    totals: dict[str, Decimal] = {}
    for f in (await engagement_figures_where(conn, where)).values():
        currency = f.backlog.currency
        totals[currency] = totals.get(currency, ZERO_MONEY) + f.backlog.amount
    return totals


def currency_kpis(currency: str, sums: dict[str, int], backlog: Decimal, days: int) -> CurrencyKpis:
    """Apply the KPI formulas to one currency's integer sums (pure, no SQL)."""

    def money(name: str) -> Money:
        return Money.from_minor(sums.get(name, 0), currency)

    billed, collected, ar = money("billed_minor"), money("collected_minor"), money("ar_minor")
    at_bill = value_of_time(sums.get("invoiced_bill_x", 0))
    at_standard = value_of_time(sums.get("invoiced_standard_x", 0))
    return CurrencyKpis(
        currency=currency,
        bookings=money("bookings_minor"),
        weighted_pipeline=Money(per_10k(sums.get("pipeline_x", 0)), currency),
        backlog=Money(backlog, currency),
        billed=billed,
        collected=collected,
        overdue_balance=money("overdue_minor"),
        ar_balance=ar,
        dso=dso(ar.amount, billed.amount, days),
        realization=ratio(at_bill, at_standard),
        collection_realization=ratio(collected.amount, billed.amount),
    )


def dso(ar_balance: Decimal, billed: Decimal, days: int) -> Decimal | None:
    """AR balance ÷ billed in the period × days in the period, in days to 0.01; None if 0 billed."""
    if not billed:
        return None
    return (ar_balance * days / billed).quantize(CENTS, ROUND_HALF_EVEN)
