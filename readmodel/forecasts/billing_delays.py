"""Billing delays: value delivered but not invoiced, and invoices not paid on time.

Three lists and one summary, each a single statement: completed milestones not invoiced,
approved billable time not invoiced (per project), overdue invoices, and overdue balances by
aging bucket. ``where`` adds the caller's row scope. Formulas and a worked example:
docs/formulas.md, "Billing delays".
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel.enums import TimeEntryStatus
from readmodel.figures.invoices import days_overdue, is_overdue
from readmodel.figures.project_sums import UNBILLED_MILESTONES
from readmodel.figures.sql import ACCOUNT, INVOICE, MILESTONE, PROJECT, TIME_ENTRY, as_int, live
from readmodel.money import Money, hours_to_decimal, value_of_time

Where = Sequence[ColumnElement[bool]]
AGING_BUCKETS = ("0-30", "31-60", "61-90", "90+")
AGING_BOUNDS = (30, 60, 90)  # the last day past due of each bucket but the last
"""Days past due: 1–30 (an invoice due today is not overdue yet), 31–60, 61–90, over 90."""


@dataclass(frozen=True)
class UninvoicedMilestone:
    """A milestone completed (or approved) more than the grace days ago, still not invoiced."""

    row: Row[Any]
    owner: str | None
    completed_on: date
    days_waiting: int

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.row.amount_minor, self.row.currency)


@dataclass(frozen=True)
class UnbilledTime:
    """One project's approved billable time, worked more than the grace days ago, not invoiced."""

    project_id: int
    owner: str | None
    entries: int
    hours: Decimal
    amount: Money
    oldest_work_date: date
    days_waiting: int


@dataclass(frozen=True)
class OverdueInvoice:
    row: Row[Any]
    owner: str | None
    days_overdue: int
    bucket: str

    @property
    def balance(self) -> Money:
        return Money.from_minor(self.row.balance_minor, self.row.currency)


@dataclass(frozen=True)
class AgingTotal:
    """Σ balances of the overdue invoices of one bucket in one currency."""

    bucket: str
    currency: str
    invoices: int
    balance: Money


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def bucket_of(days: int) -> str:
    """The aging bucket of an invoice ``days`` past due (``days`` ≥ 1)."""
    return AGING_BUCKETS[bisect_left(AGING_BOUNDS, days)]


async def uninvoiced_milestones(
    conn: AsyncConnection, today: date, grace_days: int, first: int, where: Where = ()
) -> list[UninvoicedMilestone]:
    """Milestones ``completed`` or ``approved`` on a day more than ``grace_days`` before
    ``today`` (by ``completed_at``'s UTC date), longest waiting first, at most ``first``."""
    stmt = (
        select(MILESTONE, PROJECT.c.manager_name.label("owner"))
        .join(PROJECT, PROJECT.c.id == MILESTONE.c.project_id)
        .where(live(MILESTONE), live(PROJECT), MILESTONE.c.status.in_(UNBILLED_MILESTONES))
        .where(MILESTONE.c.completed_at < start_of(today - timedelta(days=grace_days)), *where)
        .order_by(MILESTONE.c.completed_at, MILESTONE.c.id)
        .limit(first)
    )
    out = []
    for row in await conn.execute(stmt):
        done = row.completed_at.astimezone(UTC).date()
        out.append(UninvoicedMilestone(row, row.owner, done, (today - done).days))
    return out


def _unbilled_time() -> list[ColumnElement[bool]]:
    t = TIME_ENTRY.c
    return [
        live(TIME_ENTRY),
        live(PROJECT),
        t.status == TimeEntryStatus.APPROVED,
        t.billable.is_(True),
        t.invoice_id.is_(None),
    ]


async def unbilled_time(
    conn: AsyncConnection, today: date, grace_days: int, first: int, where: Where = ()
) -> list[UnbilledTime]:
    """Per project and currency: approved billable entries with no invoice, worked before
    ``today − grace_days``; oldest work first, at most ``first`` projects."""
    t = TIME_ENTRY.c
    oldest = func.min(t.work_date)
    stmt = (
        select(
            t.project_id,
            t.currency,
            PROJECT.c.manager_name.label("owner"),
            func.count().label("entries"),
            func.sum(t.hours_x100).label("hours_x100"),
            func.sum(t.hours_x100 * t.bill_rate_minor).label("value_x"),
            oldest.label("oldest"),
        )
        .join(PROJECT, PROJECT.c.id == t.project_id)
        .where(*_unbilled_time(), t.work_date < today - timedelta(days=grace_days), *where)
        .group_by(t.project_id, t.currency, PROJECT.c.manager_name)
        .order_by(oldest, t.project_id, t.currency)
        .limit(first)
    )
    return [
        UnbilledTime(
            project_id=row.project_id,
            owner=row.owner,
            entries=as_int(row.entries),
            hours=hours_to_decimal(as_int(row.hours_x100)),
            amount=Money(value_of_time(as_int(row.value_x)), row.currency),
            oldest_work_date=row.oldest,
            days_waiting=(today - row.oldest).days,
        )
        for row in await conn.execute(stmt)
    ]


def _overdue(today: date) -> list[ColumnElement[bool]]:
    return [live(INVOICE), live(ACCOUNT), is_overdue(today)]


async def overdue_invoices(
    conn: AsyncConnection, today: date, first: int, where: Where = ()
) -> list[OverdueInvoice]:
    """Invoices overdue on ``today``, longest past due first, at most ``first``; the owner is
    the client's account owner."""
    stmt = (
        select(INVOICE, ACCOUNT.c.owner_name.label("owner"))
        .join(ACCOUNT, ACCOUNT.c.id == INVOICE.c.account_id)
        .where(*_overdue(today), *where)
        .order_by(INVOICE.c.due_date, INVOICE.c.id)
        .limit(first)
    )
    out = []
    for row in await conn.execute(stmt):
        days = days_overdue(row.status, row.due_date, row.balance_minor, today)
        out.append(OverdueInvoice(row, row.owner, days, bucket_of(days)))
    return out


async def aging(conn: AsyncConnection, today: date, where: Where = ()) -> list[AgingTotal]:
    """Overdue balances by bucket and currency (bucket order, then currency code)."""
    due = INVOICE.c.due_date
    # The bucket is computed in a subquery: PostgreSQL cannot match a CASE with bound dates in
    # the select list to the same CASE in GROUP BY (each gets its own parameters).
    overdue = (
        select(
            case(
                *((due >= today - timedelta(days=b), i) for i, b in enumerate(AGING_BOUNDS)),
                else_=len(AGING_BOUNDS),
            ).label("bucket"),
            INVOICE.c.currency,
            INVOICE.c.balance_minor,
        )
        .join(ACCOUNT, ACCOUNT.c.id == INVOICE.c.account_id)
        .where(*_overdue(today), *where)
        .subquery()
    )
    o = overdue.c
    stmt = (
        select(o.bucket, o.currency, func.count().label("invoices"), func.sum(o.balance_minor))
        .group_by(o.bucket, o.currency)
        .order_by(o.bucket, o.currency)
    )
    return [
        AgingTotal(
            AGING_BUCKETS[as_int(bucket)],
            currency,
            as_int(invoices),
            Money.from_minor(as_int(balance), currency),
        )
        for bucket, currency, invoices, balance in await conn.execute(stmt)
    ]
