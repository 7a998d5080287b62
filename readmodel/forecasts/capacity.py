"""The capacity forecast by month and role: available hours (less holidays) vs booked and
weighted-pipeline demand (2 statements, + 2 for the pipeline: ``pipeline_demand``).

Formulas and a worked example: docs/formulas.md, "Capacity forecast".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.figures.numbers import plural, ratio, to_cents
from readmodel.figures.sql import PERSON, PROJECT, live
from readmodel.figures.workdays import WORKING_DAYS_PER_WEEK, Calendar
from readmodel.forecasts.months import Months
from readmodel.forecasts.revenue_sources import ASSIGNMENT, BOOKED, OPEN_PROJECTS

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RoleMonth:
    """One role in one month, from today on."""

    month: date
    role: str
    available: Decimal
    booked: Decimal
    people: int
    assignments: int
    over: Decimal
    under: Decimal
    pipeline: Decimal = ZERO
    deals: int = 0

    @property
    def demand(self) -> Decimal:
        return self.booked + self.pipeline

    @property
    def utilization(self) -> Decimal | None:
        return ratio(self.demand, self.available)

    @property
    def flag(self) -> str:
        u = self.utilization
        if u is None:
            return "over" if self.demand else "idle"
        return "over" if u > self.over else "under" if u < self.under else "ok"

    @property
    def explanation(self) -> str:
        u = self.utilization
        share = "no capacity" if u is None else f"utilization {u}"
        need = f"{self.booked} h booked ({plural(self.assignments, 'assignment')})"
        if self.deals:
            need += (
                f" + {self.pipeline} h weighted pipeline ({plural(self.deals, 'deal')}) "
                f"= {self.demand} h"
            )
        return (
            f"{self.month:%Y-%m} {self.role}: {need} ÷ {self.available} h available "
            f"({plural(self.people, 'person', 'people')}) = {share}; over above {self.over}, "
            f"under below {self.under}."
        )


async def capacity_rows(
    conn: AsyncConnection, start: date, end: date, today: date
) -> tuple[list[Any], list[Any]]:
    """Active, live people (role, weekly capacity); booked or active live assignments of live
    setup/active projects with an end date, overlapping today … ``end``."""
    p, a = PERSON.c, ASSIGNMENT.c
    people = await conn.execute(
        select(p.id, p.role, p.weekly_capacity_hours_x100)
        .where(live(PERSON), p.active.is_(True))
        .order_by(p.id)
    )
    booked = await conn.execute(
        select(a.id, a.role, a.scheduled_hours_x100, a.start_date, a.end_date)
        .join(PROJECT, PROJECT.c.id == a.project_id)
        .where(live(ASSIGNMENT), live(PROJECT), a.status.in_(BOOKED))
        .where(PROJECT.c.status.in_(OPEN_PROJECTS), a.end_date >= max(start, today))
        .where(a.start_date <= end)
        .order_by(a.id)
    )
    return list(people), list(booked)


Tally = dict[str, tuple[Decimal, int]]  # role → (hours, how many people or assignments)


def _available(people: list[Any], days: int) -> Tally:
    """Σ weekly capacity × working days ÷ 5 per role, each person to 0.01 h."""
    out: dict[str, tuple[Decimal, int]] = {}
    for person in people:
        hours = to_cents(
            Decimal(person.weekly_capacity_hours_x100 * days) / WORKING_DAYS_PER_WEEK / 100
        )
        total, n = out.get(person.role, (ZERO, 0))
        out[person.role] = (total + hours, n + 1)
    return out


def _demand(booked: list[Any], months: Months, today: date) -> dict[date, Tally]:
    """Per month: Σ scheduled hours × the month's share of each assignment's working days
    (from today on), per role. One pass: an assignment visits the months it overlaps."""
    out: dict[date, Tally] = {month: {} for month in months.firsts}
    for a in booked:
        span = months.calendar.days(a.start_date, a.end_date)
        if not span:
            continue
        for month, share in months.shares(max(a.start_date, today), a.end_date):
            hours = to_cents(Decimal(a.scheduled_hours_x100 * share) / span / 100)
            tally = out[month]
            total, n = tally.get(a.role, (ZERO, 0))
            tally[a.role] = (total + hours, n + 1)
    return out


@dataclass(frozen=True)
class Demand:
    """What capacity is compared with: booked assignments, and (if given) the pipeline."""

    booked: list[Any]
    calendar: Calendar = field(default_factory=Calendar)
    pipeline: Callable[[Months], dict[date, Tally]] | None = None  # month → role hours of deals


def capacity(
    people: list[Any],
    demand: Demand,
    start: date,
    end: date,
    today: date,
    thresholds: tuple[Decimal, Decimal],
) -> list[RoleMonth]:
    """Each month of the period from the current one on, each role, sorted (pure)."""
    out, cal = [], demand.calendar
    months = Months(max(start, today.replace(day=1)), end, cal)
    booked_by_month = _demand(demand.booked, months, today)
    pipeline_by_month = {} if demand.pipeline is None else demand.pipeline(months)
    for month, month_last in zip(months.firsts, months.lasts, strict=True):
        available = _available(people, cal.days(max(month, today), month_last))
        booked = booked_by_month[month]
        pipeline = pipeline_by_month.get(month, {})
        for role in sorted(set(available) | set(booked) | set(pipeline)):
            (have, people_n), (need, booked_n), (deal_h, deals_n) = (
                available.get(role, (ZERO, 0)),
                booked.get(role, (ZERO, 0)),
                pipeline.get(role, (ZERO, 0)),
            )
            out.append(
                RoleMonth(month, role, have, need, people_n, booked_n, *thresholds, deal_h, deals_n)
            )
    return out
