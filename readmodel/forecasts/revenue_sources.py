"""What the revenue forecast reads: six statements, whatever the size of the firm.

Each returns plain rows; ``readmodel.forecasts.revenue`` places them in months. What counts
as open work is ``OpenOn``'s: today's statuses, or, for a snapshot of a past day, the same
work reconstructed from its dates (docs/formulas.md, "Forecast accuracy").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Row, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel import tables
from readmodel.enums import (
    AssignmentStatus,
    BillingMethod,
    MilestoneStatus,
    ProjectStatus,
    TimeEntryStatus,
)
from readmodel.figures.invoices import is_billed
from readmodel.figures.sql import INVOICE, MILESTONE, OPPORTUNITY, PROJECT, TIME_ENTRY, live
from readmodel.forecasts.months import first_of, shifted

ASSIGNMENT = tables.table_of(tables.Assignment)
OPEN_PROJECTS = (ProjectStatus.SETUP, ProjectStatus.ACTIVE)
NOT_INVOICED = (MilestoneStatus.PLANNED, MilestoneStatus.COMPLETED, MilestoneStatus.APPROVED)
BOOKED = (AssignmentStatus.BOOKED, AssignmentStatus.ACTIVE)
RATE_CARD = tables.table_of(tables.RateCard)
LINE = RATE_CARD.c.service_line.label("service_line")
"""Every row names its service line (a project's: its rate card's; a deal's own): snapshots
split by it. Its statements join ``RATE_CARD`` through ``BY_CARD``."""
BY_CARD = RATE_CARD.c.id == PROJECT.c.rate_card_id
PAST_PROBABILITY = 50
"""A deal closed since a past snapshot day was open then, at a probability the read model no
longer holds (it keeps the outcome's 100 or 0): counted at this percentage."""

Where = list[ColumnElement[bool]]


@dataclass(frozen=True)
class OpenOn:
    """Open work on ``day``: by today's statuses, or (``past``) by dates, for a past day."""

    day: date
    past: bool = False

    def project(self) -> Where:
        """Live projects under way (``past``: started by the day, not ended before it)."""
        p = PROJECT.c
        if not self.past:
            return [live(PROJECT), p.status.in_(OPEN_PROJECTS)]
        return [live(PROJECT), p.start_date <= self.day, p.end_date >= self.day]

    def milestone(self) -> Where:
        """Not invoiced (``past``: or completed on the day or later)."""
        m = MILESTONE.c
        if not self.past:
            return [m.status.in_(NOT_INVOICED)]
        after = datetime.combine(self.day, time(), UTC)
        return [or_(m.status.in_(NOT_INVOICED), m.completed_at >= after)]

    def assignment(self) -> Where:
        """Booked or active (``past``: or ended since)."""
        ended = (AssignmentStatus.ENDED,) if self.past else ()
        return [ASSIGNMENT.c.status.in_(BOOKED + ended)]

    def unbilled_time(self) -> Where:
        """Approved billable time worked before the day and not on an invoice billed by then:
        on none, on a draft or void one, or (``past``) on one issued after the day. The same
        rule today and for a past day: what the next invoices will bill."""
        t, i = TIME_ENTRY.c, INVOICE.c
        billed = and_(live(INVOICE), is_billed(), i.issue_date <= self.day)
        not_billed = select(i.id).where(~billed)  # few: drafts, voids, later ones
        approved = (TimeEntryStatus.APPROVED, TimeEntryStatus.INVOICED)
        worked = [live(TIME_ENTRY), t.billable.is_(True), t.work_date < self.day]
        on_none = and_(t.status == TimeEntryStatus.APPROVED, t.invoice_id.is_(None))
        return [*worked, or_(on_none, and_(t.status.in_(approved), t.invoice_id.in_(not_billed)))]

    def retainer(self, billed_after: int) -> Where:
        """Retainers with a fee still to invoice: started (``past``: by the day) and not
        ended before the month whose fee is invoiced in the day's month (``billed_after``
        months before it); not on hold or closed (``past``: any status)."""
        p = PROJECT.c
        last_fee = shifted(first_of(self.day), -billed_after)
        if not self.past:
            billing = (*OPEN_PROJECTS, ProjectStatus.COMPLETED)
            return [live(PROJECT), p.status.in_(billing), p.end_date >= last_fee]
        return [live(PROJECT), p.start_date <= self.day, p.end_date >= last_fee]

    def deal(self) -> Where:
        """Open (``past``: closed after the day; a deal open today is left out, as the read
        model does not say when it was opened)."""
        o = OPPORTUNITY.c
        if not self.past:
            return [o.is_closed.is_(False)]
        return [o.is_closed.is_(True), o.close_date > self.day]

    def probability(self) -> Any:
        o = OPPORTUNITY.c
        if not self.past:
            return o.probability
        return literal(PAST_PROBABILITY).label("probability")


@dataclass(frozen=True)
class Sources:
    """The rows behind a forecast (``currency``: one currency, or ``None`` for all)."""

    invoices: list[Row[Any]]
    milestones: list[Row[Any]]
    fixed_fees: list[Row[Any]]
    retainers: list[Row[Any]]
    assignments: list[Row[Any]]
    deals: list[Row[Any]]
    unbilled_time: list[Row[Any]]


def _in(column: Any, currency: str | None) -> list[Any]:
    return [] if currency is None else [column == currency]


async def read_sources(
    conn: AsyncConnection,
    start: date,
    end: date,
    today: date,
    currency: str | None,
    *,
    past: bool = False,
    time_billed_after: int,
) -> Sources:
    """Billed invoices issued in the period up to today; milestones, fixed-fee and retainer
    projects and assignments still to deliver; open deals; time worked and not invoiced (each
    row with its service line). ``past``: ``today`` is a past day and open work is
    reconstructed from dates (``OpenOn``)."""
    on = OpenOn(today, past)
    fees = await _rows(conn, _fee_projects(on, time_billed_after, currency))
    return Sources(
        await _rows(conn, _invoices(start, min(end, today), currency)),
        await _rows(conn, _milestones(end, currency, on)),
        [p for p in fees if p.billing_method == BillingMethod.FIXED_FEE],
        [p for p in fees if p.billing_method == BillingMethod.RETAINER],
        await _rows(conn, _assignments(on, currency)),
        await _rows(conn, _deals(currency, on)),
        await _rows(conn, _unbilled_time(on, time_billed_after, currency)),
    )


async def _rows(conn: AsyncConnection, stmt: Any) -> list[Row[Any]]:
    return list(await conn.execute(stmt))


def _invoices(start: date, end: date, currency: str | None) -> Any:
    i = INVOICE.c
    return (
        select(i.id, i.currency, i.issue_date, i.total_minor, LINE)
        .outerjoin(PROJECT, PROJECT.c.id == i.project_id)
        .outerjoin(RATE_CARD, BY_CARD)
        .where(live(INVOICE), is_billed(), i.issue_date >= start, i.issue_date <= end)
        .where(*_in(i.currency, currency))
        .order_by(i.issue_date, i.id)
    )


def _milestones(end: date, currency: str | None, on: OpenOn) -> Any:
    m = MILESTONE.c
    return (
        select(m.id, m.currency, m.due_date, m.amount_minor, LINE)
        .join(PROJECT, PROJECT.c.id == m.project_id)
        .outerjoin(RATE_CARD, BY_CARD)
        .where(live(MILESTONE), *on.milestone(), m.due_date <= end)
        .where(PROJECT.c.billing_method == BillingMethod.MILESTONE)  # a fixed fee's instalment
        # milestones (the handoff makes them) are the fixedFee part's
        .where(*on.project(), *_in(m.currency, currency))
        .order_by(m.due_date, m.id)
    )


def _fee_projects(on: OpenOn, billed_after: int, currency: str | None) -> Any:
    """Fixed-fee projects under way and retainers with a fee still to invoice, with what
    they billed by the day."""
    p, i = PROJECT.c, INVOICE.c
    billed = (
        select(func.coalesce(func.sum(i.total_minor), 0))
        .where(live(INVOICE), is_billed(), i.project_id == p.id, i.issue_date <= on.day)
        .scalar_subquery()
    )
    return (
        select(p.id, p.billing_method, p.currency, p.budget_minor, p.start_date, p.end_date)
        .add_columns(billed.label("billed_minor"), LINE)
        .select_from(PROJECT.outerjoin(RATE_CARD, BY_CARD))
        .where(
            or_(
                and_(
                    p.billing_method == BillingMethod.FIXED_FEE, *on.project(), p.end_date >= on.day
                ),
                and_(p.billing_method == BillingMethod.RETAINER, *on.retainer(billed_after)),
            )
        )
        .where(*_in(p.currency, currency))
        .order_by(p.id)
    )


def _assignments(on: OpenOn, currency: str | None) -> Any:
    a = ASSIGNMENT.c
    return (
        select(a.id, a.currency, a.scheduled_hours_x100, a.bill_rate_minor, a.start_date)
        .add_columns(a.end_date, LINE)
        .join(PROJECT, PROJECT.c.id == a.project_id)
        .outerjoin(RATE_CARD, BY_CARD)
        .where(live(ASSIGNMENT), *on.assignment(), a.end_date >= on.day)
        .where(PROJECT.c.billing_method == BillingMethod.TIME_AND_MATERIALS, *on.project())
        .where(*_in(a.currency, currency))
        .order_by(a.id)
    )


def _deals(currency: str | None, on: OpenOn) -> Any:
    o = OPPORTUNITY.c
    return (
        select(o.id, o.currency, o.amount_minor, on.probability(), o.close_date, o.service_line)
        .where(live(OPPORTUNITY), *on.deal(), *_in(o.currency, currency))
        .order_by(o.id)
    )


def _unbilled_time(on: OpenOn, billed_after: int, currency: str | None) -> Any:
    """Σ value of the unbilled time per time-and-materials project and ``placed``: how many months
    after the day's month it is to be invoiced — the month worked + ``billed_after``, or the
    day's month once that has passed. Time worked in the month ``billed_after − j`` months
    before the day's is placed ``j`` months on (j = 1 … ``billed_after``), older time at 0."""
    t, p = TIME_ENTRY.c, PROJECT.c
    current = first_of(on.day)
    bounds = [shifted(current, j - billed_after) for j in range(1, billed_after + 1)]
    placed: Any = literal(0)
    if bounds:
        placed = case(*((t.work_date < b, j) for j, b in enumerate(bounds)), else_=len(bounds))
    entries = (
        select(p.id, t.currency, placed.label("placed"), LINE)
        .add_columns((t.hours_x100 * t.bill_rate_minor).label("value_x"))
        .select_from(TIME_ENTRY.join(PROJECT, p.id == t.project_id).outerjoin(RATE_CARD, BY_CARD))
        .where(*on.unbilled_time(), live(PROJECT))
        .where(p.billing_method == BillingMethod.TIME_AND_MATERIALS)
        .where(*_in(t.currency, currency))
        .subquery()
    )  # grouped outside: a CASE of bound dates is not the same expression twice on PostgreSQL
    e = entries.c
    keys = (e.id, e.currency, e.placed, e.service_line)
    return (
        select(*keys, func.sum(e.value_x).label("value_x")).group_by(*keys).order_by(e.id, e.placed)
    )
