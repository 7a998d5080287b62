"""A project's outlook: two estimates at completion, the band they span, margin at completion.

- **team**: cost to date + the team's estimate to complete (the project figures' ``eac``);
- **trend**: cost to date + the recent cost per working day × the working days left to the
  end date (null without an end date).

Two statements per batch (recent cost; milestone totals) on top of the project figures.
Formulas and a worked example: docs/formulas.md, "Project outlook".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.enums import BillingMethod
from readmodel.figures.numbers import ratio, to_cents
from readmodel.figures.project_sums import LOGGED_TIME
from readmodel.figures.projects import TIME_BASED, ProjectFigures
from readmodel.figures.sql import MILESTONE, TIME_ENTRY, as_int, live, sum_if
from readmodel.figures.workdays import working_days
from readmodel.forecasts.outlook_text import factors
from readmodel.money import Money, minor_to_decimal, value_of_time

STORED_WINDOW = 28
"""The trend window of the stored outlook (readmodel/figures/stored.py): the default of the
setting ``forecasts.outlook_window_days`` (a test holds them equal)."""


@dataclass(frozen=True)
class Trend:
    """The recent burn: cost logged from ``start`` to ``end`` over its working days, and the
    working days left to the project's end date."""

    start: date
    end: date
    recent_cost: Decimal
    window_days: int
    days_left: int
    end_date: date

    @property
    def daily(self) -> Decimal:
        """The cost per working day, to the cent (for display; ``to_go`` is unrounded)."""
        return to_cents(self.recent_cost / self.window_days) if self.window_days else Decimal(0)

    @property
    def to_go(self) -> Decimal:
        if not self.window_days:
            return Decimal("0.00")
        return to_cents(self.recent_cost * self.days_left / self.window_days)


@dataclass(frozen=True)
class Outlook:
    """One project's outlook, in its currency, with the parts of every figure."""

    currency: str
    budget: Decimal
    cost_to_date: Decimal
    team_eac: Decimal
    trend: Trend | None
    revenue_at_completion: Decimal | None
    hours_burn: Decimal | None
    percent_complete: Decimal | None

    @property
    def trend_eac(self) -> Decimal | None:
        return None if self.trend is None else self.cost_to_date + self.trend.to_go

    @property
    def estimates(self) -> list[Decimal]:
        return [e for e in (self.team_eac, self.trend_eac) if e is not None]

    @property
    def low(self) -> Decimal:
        return min(self.estimates)

    @property
    def high(self) -> Decimal:
        """The expected estimate at completion: the higher of the two (prudence)."""
        return max(self.estimates)

    @property
    def status(self) -> str:
        if not self.budget:
            return "no_budget"
        if self.low > self.budget:
            return "overrun"
        return "at_risk" if self.high > self.budget else "on_track"

    @property
    def margin_at_completion(self) -> Decimal | None:
        rac = self.revenue_at_completion
        return None if not rac else ratio(rac - self.high, rac)

    def money(self, amount: Decimal | None) -> Money | None:
        return None if amount is None else Money(amount, self.currency)

    @property
    def factors(self) -> list[tuple[str, Decimal | None, str]]:
        return factors(self)


Projects = Sequence[int] | Select[Any]
"""A batch of projects: their ids, or a statement selecting them (so the bound parameters do
not grow with the number of projects: readmodel/figures/stored.py)."""


def _chosen(projects: Projects) -> Any:
    return projects if isinstance(projects, Select) else list(projects)


async def recent_cost(
    conn: AsyncConnection, projects: Projects, start: date, end: date
) -> dict[int, Decimal]:
    """Σ hours × cost rate of logged time worked from ``start`` to ``end``, per project."""
    t = TIME_ENTRY.c
    recent = t.status.in_(LOGGED_TIME) & (t.work_date >= start) & (t.work_date <= end)
    stmt = (
        select(t.project_id, sum_if(recent, t.hours_x100 * t.cost_rate_minor))
        .where(live(TIME_ENTRY), t.project_id.in_(_chosen(projects)))
        .group_by(t.project_id)
    )
    return {key: value_of_time(as_int(x)) for key, x in await conn.execute(stmt)}


async def milestone_totals(conn: AsyncConnection, projects: Projects) -> dict[int, int]:
    """Σ amounts of every live milestone (any status), per project, in minor units."""
    m = MILESTONE.c
    stmt = (
        select(m.project_id, func.sum(m.amount_minor))
        .where(live(MILESTONE), m.project_id.in_(_chosen(projects)))
        .group_by(m.project_id)
    )
    return {key: as_int(total) for key, total in await conn.execute(stmt)}


def trend_of(recent: Decimal, today: date, window: int, end_date: date | None) -> Trend | None:
    """The recent burn over the ``window`` days to ``today``; null without an end date."""
    if end_date is None:
        return None
    start = today - timedelta(days=window - 1)
    left = working_days(today + timedelta(days=1), end_date)
    return Trend(start, today, recent, working_days(start, today), left, end_date)


def revenue_at_completion(
    method: str, f: ProjectFigures, milestones_minor: int, eac: Decimal
) -> Decimal | None:
    """By billing method: the budget (fixed fee), every milestone (milestone), revenue per
    unit of cost so far × EAC (time and materials, retainer); ``None`` otherwise."""
    if method == BillingMethod.FIXED_FEE:
        return f.budget.amount
    if method == BillingMethod.MILESTONE:
        return minor_to_decimal(milestones_minor)
    if method in TIME_BASED and f.cost_to_date.amount:
        return to_cents(f.recognized_revenue.amount * eac / f.cost_to_date.amount)
    return None


def outlook_of(project: Any, f: ProjectFigures, inputs: OutlookInputs, today: date) -> Outlook:
    """Combine a project row, its figures and its outlook inputs (pure)."""
    trend = trend_of(inputs.recent_cost, today, inputs.window, project.end_date)
    partial = Outlook(
        f.currency, f.budget.amount, f.cost_to_date.amount, f.eac.amount, trend, None,
        f.hours_burn, f.percent_complete,
    )  # fmt: skip
    rac = revenue_at_completion(project.billing_method, f, inputs.milestones_minor, partial.high)
    return replace(partial, revenue_at_completion=rac)


@dataclass(frozen=True)
class OutlookInputs:
    """What the outlook reads beyond the project figures."""

    recent_cost: Decimal
    milestones_minor: int
    window: int


async def outlook_inputs(
    conn: AsyncConnection, project_ids: Sequence[int], today: date, window: int
) -> dict[int, OutlookInputs]:
    """The outlook's own inputs for a batch of projects (2 statements)."""
    found = await outlook_inputs_of(conn, project_ids, today, window)
    return {p: found(p) for p in project_ids}


async def outlook_inputs_of(
    conn: AsyncConnection, projects: Projects, today: date, window: int
) -> Callable[[int], OutlookInputs]:
    """The outlook's own inputs of the ``projects`` (2 statements), by project id."""
    start = today - timedelta(days=window - 1)
    recent = await recent_cost(conn, projects, start, today)
    milestones = await milestone_totals(conn, projects)
    zero = Decimal("0.00")
    return lambda p: OutlookInputs(recent.get(p, zero), milestones.get(p, 0), window)
