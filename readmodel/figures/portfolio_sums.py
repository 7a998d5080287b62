"""The integer sums behind the firm-wide KPIs, one GROUP BY currency statement per source."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.enums import TimeEntryStatus
from readmodel.figures.invoices import is_billed, is_open, is_overdue
from readmodel.figures.project_sums import LOGGED_TIME
from readmodel.figures.sql import (
    INVOICE,
    OPPORTUNITY,
    PAYMENT,
    PERSON,
    PROJECT,
    TIME_ENTRY,
    as_int,
    int_fields,
    live,
    sum_if,
)


async def currency_sums(
    conn: AsyncConnection, start: date, end: date, today: date
) -> dict[str, dict[str, int]]:
    """Per currency, the integer sums of the period's KPIs (4 statements).

    Args:
        conn: An open connection to the read model.
        start: First day of the period.
        end: Last day of the period (included).
        today: The date overdue balances are measured against.

    Returns:
        ``{currency: {sum name: integer}}``; a sum absent for a currency is 0.
    """
    sums: dict[str, dict[str, int]] = defaultdict(dict)
    for stmt in (
        _opportunities(start, end),
        _invoices(start, end, today),
        _payments(start, end),
        _time(start, end),
    ):
        for row in await conn.execute(stmt):
            sums[row.currency].update(int_fields(row, "currency"))
    return sums


async def weekly_capacity_x100(conn: AsyncConnection) -> int:
    """Σ weekly capacity (hundredths of an hour) of the live, active people (1 statement)."""
    total = func.coalesce(func.sum(PERSON.c.weekly_capacity_hours_x100), 0)
    stmt = select(total).where(live(PERSON), PERSON.c.active.is_(True))
    return as_int(await conn.scalar(stmt))


def _opportunities(start: date, end: date) -> Select[Any]:
    o = OPPORTUNITY.c
    won = and_(o.is_won.is_(True), o.close_date.between(start, end))
    return (
        select(
            o.currency,
            sum_if(won, o.amount_minor).label("bookings_minor"),
            sum_if(o.is_closed.is_(False), o.amount_minor * o.probability).label("pipeline_x"),
        )
        .where(live(OPPORTUNITY))
        .group_by(o.currency)
    )


def _invoices(start: date, end: date, today: date) -> Select[Any]:
    i = INVOICE.c
    billed = and_(is_billed(), i.issue_date.between(start, end))
    return (
        select(
            i.currency,
            sum_if(billed, i.total_minor).label("billed_minor"),
            sum_if(is_overdue(today), i.balance_minor).label("overdue_minor"),
            sum_if(is_open(), i.balance_minor).label("ar_minor"),
        )
        .where(live(INVOICE))
        .group_by(i.currency)
    )


def _payments(start: date, end: date) -> Select[Any]:
    """Payments received in the period, against live invoices."""
    p = PAYMENT.c
    return (
        select(p.currency, func.coalesce(func.sum(p.amount_minor), 0).label("collected_minor"))
        .join_from(PAYMENT, INVOICE, INVOICE.c.id == p.invoice_id)
        .where(live(PAYMENT), live(INVOICE), p.received_on.between(start, end))
        .group_by(p.currency)
    )


def _time(start: date, end: date) -> Select[Any]:
    """Time worked in the period on live projects."""
    t = TIME_ENTRY.c
    billable = and_(t.status.in_(LOGGED_TIME), t.billable.is_(True))
    invoiced = t.status == TimeEntryStatus.INVOICED
    return (
        select(
            t.currency,
            sum_if(billable, t.hours_x100).label("billable_hours_x100"),
            sum_if(invoiced, t.hours_x100 * t.bill_rate_minor).label("invoiced_bill_x"),
            sum_if(invoiced, t.hours_x100 * t.standard_rate_minor).label("invoiced_standard_x"),
        )
        .join_from(TIME_ENTRY, PROJECT, PROJECT.c.id == t.project_id)
        .where(live(TIME_ENTRY), live(PROJECT), t.work_date.between(start, end))
        .group_by(t.currency)
    )
