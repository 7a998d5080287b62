"""The integer totals behind every project figure: four GROUP BY statements per batch.

The projects are chosen by a SQL condition (``project.id IN (...)``, ``engagement_id IN
(...)``, ``account_id IN (...) AND status = 'active'``); the aggregate statements filter their
rows with ``project_id IN (SELECT id FROM project WHERE <condition>)``, so the number of bound
parameters never grows with the number of projects found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel.enums import MilestoneStatus, TimeEntryStatus
from readmodel.figures.invoices import is_billed
from readmodel.figures.sql import (
    INVOICE,
    MILESTONE,
    PAYMENT,
    PROJECT,
    TIME_ENTRY,
    grouped,
    int_fields,
    live,
    sum_if,
)

LOGGED_TIME = (
    TimeEntryStatus.DRAFT,
    TimeEntryStatus.SUBMITTED,
    TimeEntryStatus.APPROVED,
    TimeEntryStatus.INVOICED,
)
"""Time that counts as logged (hours, cost): every status except rejected."""

EARNED_TIME = (TimeEntryStatus.APPROVED, TimeEntryStatus.INVOICED)
EARNED_MILESTONES = (MilestoneStatus.COMPLETED, MilestoneStatus.APPROVED, MilestoneStatus.INVOICED)
UNBILLED_MILESTONES = (MilestoneStatus.COMPLETED, MilestoneStatus.APPROVED)


@dataclass(frozen=True)
class ProjectSums:
    """One project's stored attributes and integer totals, straight from SQL.

    ``*_x`` totals are Σ hours_x100 × rate_minor (1/10,000 of a currency unit).
    """

    id: int
    code: str
    status: str
    account_id: int
    engagement_id: int | None
    billing_method: str
    currency: str
    budget_minor: int
    budget_hours_x100: int
    etc_cost_minor: int
    end_date: date | None = None
    hours_x100: int = 0
    billable_hours_x100: int = 0
    cost_x: int = 0
    earned_time_x: int = 0
    unbilled_time_x: int = 0
    earned_milestones_minor: int = 0
    unbilled_milestones_minor: int = 0
    billed_minor: int = 0
    collected_minor: int = 0


_ATTRIBUTES = (
    "id",
    "code",
    "status",
    "account_id",
    "engagement_id",
    "billing_method",
    "currency",
    "budget_minor",
    "budget_hours_x100",
    "etc_cost_minor",
    "end_date",
)
"""The ``ProjectSums`` fields read from the project row itself."""


async def project_sums(conn: AsyncConnection, where: ColumnElement[bool]) -> list[ProjectSums]:
    """Totals of the live projects meeting ``where``, in four statements whatever their number.

    Args:
        conn: An open connection to the read model.
        where: A condition on the ``project`` table choosing the projects.

    Returns:
        One ``ProjectSums`` per live project meeting ``where``, ordered by id.
    """
    scope = select(PROJECT.c.id).where(live(PROJECT), where)
    projects = await conn.execute(
        select(*(PROJECT.c[name] for name in _ATTRIBUTES))
        .where(live(PROJECT), where)
        .order_by(PROJECT.c.id)
    )
    rows = projects.all()
    time = await grouped(conn, _time_totals(scope), "project_id")
    milestones = await grouped(conn, _milestone_totals(scope), "project_id")
    invoices = await grouped(conn, _invoice_totals(scope), "project_id")
    groups = (time, milestones, invoices)
    return [_sums(row._mapping, *(g.get(row.id) for g in groups)) for row in rows]


def _sums(attributes: Any, *totals: Row[Any] | None) -> ProjectSums:
    values: dict[str, Any] = dict(attributes)
    for row in totals:
        values.update(int_fields(row, "project_id"))
    return ProjectSums(**values)


def _time_totals(scope: Select[Any]) -> Select[Any]:
    t = TIME_ENTRY.c
    logged = t.status.in_(LOGGED_TIME)
    billable = t.billable.is_(True)
    earned = and_(billable, t.status.in_(EARNED_TIME))
    unbilled = and_(billable, t.status == TimeEntryStatus.APPROVED, t.invoice_id.is_(None))
    return (
        select(
            t.project_id,
            sum_if(logged, t.hours_x100).label("hours_x100"),
            sum_if(and_(logged, billable), t.hours_x100).label("billable_hours_x100"),
            sum_if(logged, t.hours_x100 * t.cost_rate_minor).label("cost_x"),
            sum_if(earned, t.hours_x100 * t.bill_rate_minor).label("earned_time_x"),
            sum_if(unbilled, t.hours_x100 * t.bill_rate_minor).label("unbilled_time_x"),
        )
        .where(live(TIME_ENTRY), t.project_id.in_(scope))
        .group_by(t.project_id)
    )


def _milestone_totals(scope: Select[Any]) -> Select[Any]:
    m = MILESTONE.c
    return (
        select(
            m.project_id,
            sum_if(m.status.in_(EARNED_MILESTONES), m.amount_minor).label(
                "earned_milestones_minor"
            ),
            sum_if(m.status.in_(UNBILLED_MILESTONES), m.amount_minor).label(
                "unbilled_milestones_minor"
            ),
        )
        .where(live(MILESTONE), m.project_id.in_(scope))
        .group_by(m.project_id)
    )


def _invoice_totals(scope: Select[Any]) -> Select[Any]:
    """Billed totals and the payments against those invoices.

    Each invoice's payments are summed by a correlated subquery (``ix_payment_invoice_id``):
    a plan that holds without table statistics. Joined to a grouped subquery of all payments
    instead, PostgreSQL chose a nested loop over the whole aggregate per invoice when a bulk
    load had not been analysed yet (27 s for 500 accounts of a 1,500-account firm)."""
    i, p = INVOICE.c, PAYMENT.c
    paid = (
        select(func.coalesce(func.sum(p.amount_minor), 0))
        .where(live(PAYMENT), p.invoice_id == i.id)
        .scalar_subquery()
    )
    per_invoice = (
        select(i.project_id, i.total_minor, paid.label("paid_minor"))
        .where(live(INVOICE), is_billed(), i.project_id.in_(scope))
        .subquery()
    )
    return select(
        per_invoice.c.project_id,
        func.coalesce(func.sum(per_invoice.c.total_minor), 0).label("billed_minor"),
        func.coalesce(func.sum(per_invoice.c.paid_minor), 0).label("collected_minor"),
    ).group_by(per_invoice.c.project_id)
