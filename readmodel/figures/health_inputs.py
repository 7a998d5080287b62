"""What client health measures, read per account in a fixed number of statements.

Everything is the account's own: its projects (``project.account_id``), invoices,
engagements and opportunities. Children in the account hierarchy are not rolled up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import FromClause, Select, Table, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.enums import (
    ChangeOrderStatus,
    EngagementStatus,
    MilestoneStatus,
    ProjectStatus,
    TimeEntryStatus,
)
from readmodel.figures.invoices import is_open, is_overdue
from readmodel.figures.project_sums import project_sums
from readmodel.figures.projects import ProjectFigures, figures_of
from readmodel.figures.sql import (
    CHANGE_ORDER,
    ENGAGEMENT,
    INVOICE,
    MILESTONE,
    OPPORTUNITY,
    PROJECT,
    TIME_ENTRY,
    as_int,
    count_if,
    live,
    sum_if,
)

STALE_AFTER_DAYS = 14
"""Submitted time older than this many days is "unapproved time piling up"."""

RENEWAL_WINDOW_DAYS = 60
"""An engagement ending within this many days needs a renewal opportunity."""

OPEN_ENGAGEMENTS = (EngagementStatus.SIGNED, EngagementStatus.ACTIVE)


@dataclass(frozen=True)
class Tally:
    """How many rows matched, their earliest date and (where relevant) a summed quantity."""

    count: int = 0
    first: date | None = None
    total: int = 0


@dataclass(frozen=True)
class Receivables:
    """An account's open receivables in one currency (minor units)."""

    currency: str
    open_minor: int
    overdue_minor: int
    overdue_count: int
    oldest_due: date | None


@dataclass
class HealthInputs:
    """Everything the six health factors of one account are computed from."""

    active_projects: list[ProjectFigures] = field(default_factory=list)
    receivables: list[Receivables] = field(default_factory=list)
    slipped_milestones: Tally = Tally()
    stale_time: Tally = Tally()
    open_change_orders: Tally = Tally()
    ending_engagements: Tally = Tally()
    open_opportunities: int = 0


async def health_inputs(
    conn: AsyncConnection, account_ids: Sequence[int], today: date
) -> dict[int, HealthInputs]:
    """The inputs of every account in ``account_ids`` (10 statements whatever their number).

    Args:
        conn: An open connection to the read model.
        account_ids: The accounts (non-empty); ids without rows get empty inputs.
        today: The date overdue, slipped, stale and ending are measured against.

    Returns:
        Inputs keyed by every id of ``account_ids``.
    """
    ids = set(account_ids)
    inputs = {account_id: HealthInputs() for account_id in ids}
    active = and_(PROJECT.c.account_id.in_(ids), PROJECT.c.status == ProjectStatus.ACTIVE)
    for s in await project_sums(conn, active):
        inputs[s.account_id].active_projects.append(figures_of(s))
    for row in await conn.execute(_receivables(ids, today)):
        inputs[row.account_id].receivables.append(Receivables(**_without_account(row)))
    for name, stmt in _tallies(ids, today).items():
        for row in await conn.execute(stmt):
            setattr(inputs[row.account_id], name, _tally(row))
    for row in await conn.execute(_open_opportunities(ids)):
        inputs[row.account_id].open_opportunities = as_int(row.count)
    return inputs


def _without_account(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    del values["account_id"]
    for key in ("open_minor", "overdue_minor", "overdue_count"):
        values[key] = as_int(values[key])
    return values


def _tally(row: Any) -> Tally:
    first = row.first
    if isinstance(first, datetime):
        first = first.date()
    return Tally(count=as_int(row.count), first=first, total=as_int(row.total))


def _receivables(ids: set[int], today: date) -> Select[Any]:
    i = INVOICE.c
    overdue = is_overdue(today)
    return (
        select(
            i.account_id,
            i.currency,
            sum_if(is_open(), i.balance_minor).label("open_minor"),
            sum_if(overdue, i.balance_minor).label("overdue_minor"),
            count_if(overdue).label("overdue_count"),
            func.min(case((overdue, i.due_date))).label("oldest_due"),
        )
        .where(live(INVOICE), i.account_id.in_(ids), is_open())
        .group_by(i.account_id, i.currency)
        .order_by(i.account_id, i.currency)
    )


def _tallies(ids: set[int], today: date) -> dict[str, Select[Any]]:
    """One GROUP BY account statement per counted condition, keyed by ``HealthInputs`` field."""
    m, t, c, e = MILESTONE.c, TIME_ENTRY.c, CHANGE_ORDER.c, ENGAGEMENT.c
    stale_cutoff = datetime.combine(today - timedelta(days=STALE_AFTER_DAYS), time.min, UTC)
    ending_by = today + timedelta(days=RENEWAL_WINDOW_DAYS)
    return {
        "slipped_milestones": _on_projects(
            MILESTONE, ids, m.due_date, m.status == MilestoneStatus.PLANNED, m.due_date < today
        ),
        "stale_time": _on_projects(
            TIME_ENTRY,
            ids,
            t.submitted_at,
            t.status == TimeEntryStatus.SUBMITTED,
            t.submitted_at < stale_cutoff,
            total=t.hours_x100,
        ),
        "open_change_orders": _on_projects(
            CHANGE_ORDER, ids, c.submitted_at, c.status == ChangeOrderStatus.SUBMITTED
        ),
        "ending_engagements": _tally_stmt(
            ENGAGEMENT,
            ENGAGEMENT,
            e.account_id,
            e.end_date,
            e.account_id.in_(ids),
            e.status.in_(OPEN_ENGAGEMENTS),
            e.end_date <= ending_by,
        ),
    }


def _on_projects(
    table: Table, ids: set[int], first: Any, *where: Any, total: Any = None
) -> Select[Any]:
    """A tally of ``table``'s rows on the accounts' live projects."""
    joined = table.join(PROJECT, PROJECT.c.id == table.c.project_id)
    account = PROJECT.c.account_id
    return _tally_stmt(
        joined, table, account, first, account.in_(ids), live(PROJECT), *where, total=total
    )


def _tally_stmt(
    joined: FromClause, table: Table, account: Any, first: Any, *where: Any, total: Any = None
) -> Select[Any]:
    """Per account: count, earliest ``first`` and Σ ``total`` of the live rows of ``table``."""
    return (
        select(
            account.label("account_id"),
            func.count().label("count"),
            func.min(first).label("first"),
            func.coalesce(func.sum(total if total is not None else 0), 0).label("total"),
        )
        .select_from(joined)
        .where(live(table), *where)
        .group_by(account)
    )


def _open_opportunities(ids: set[int]) -> Select[Any]:
    o = OPPORTUNITY.c
    return (
        select(o.account_id, func.count().label("count"))
        .where(live(OPPORTUNITY), o.account_id.in_(ids), o.is_closed.is_(False))
        .group_by(o.account_id)
    )
