"""Project figures: hours, cost, burn, EAC, % complete, revenue, WIP, billed, margin.

Formulas and worked examples: docs/formulas.md, "Project figures".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.enums import BillingMethod
from readmodel.figures.numbers import ZERO_MONEY, ratio, to_cents
from readmodel.figures.project_sums import ProjectSums, project_sums
from readmodel.figures.sql import PROJECT
from readmodel.money import Money, hours_to_decimal, minor_to_decimal, value_of_time

TIME_BASED = (BillingMethod.TIME_AND_MATERIALS, BillingMethod.RETAINER)
"""Billing methods whose revenue is the billable time at its bill rate."""


@dataclass(frozen=True)
class ProjectFigures:
    """Every derived figure of one project, in the project's currency."""

    project_id: int
    currency: str
    hours_logged: Decimal
    billable_hours: Decimal
    cost_to_date: Money
    budget_burn: Decimal | None
    hours_burn: Decimal | None
    eac: Money
    percent_complete: Decimal | None
    recognized_revenue: Money
    unbilled_wip: Money
    billed: Money
    collected: Money
    margin: Decimal | None
    budget: Money
    code: str
    status: str


async def project_figures(
    conn: AsyncConnection, project_ids: Sequence[int]
) -> dict[int, ProjectFigures]:
    """Figures of the live projects among ``project_ids`` (4 statements; 0 for no ids).

    Args:
        conn: An open connection to the read model.
        project_ids: The projects wanted; unknown or soft-deleted ids are absent from the result.

    Returns:
        The figures keyed by project id.
    """
    if not project_ids:
        return {}
    sums = await project_sums(conn, PROJECT.c.id.in_(set(project_ids)))
    return {s.id: figures_of(s) for s in sums}


def figures_of(s: ProjectSums) -> ProjectFigures:
    """Apply the formulas to one project's integer totals (pure, no SQL)."""
    money = s.currency
    cost = value_of_time(s.cost_x)
    budget = minor_to_decimal(s.budget_minor)
    eac = cost + minor_to_decimal(s.etc_cost_minor)
    billed = minor_to_decimal(s.billed_minor)
    revenue = recognized_revenue(s, cost, eac)
    return ProjectFigures(
        project_id=s.id,
        currency=money,
        hours_logged=hours_to_decimal(s.hours_x100),
        billable_hours=hours_to_decimal(s.billable_hours_x100),
        cost_to_date=Money(cost, money),
        budget_burn=ratio(cost, budget),
        hours_burn=ratio(s.hours_x100, s.budget_hours_x100),
        eac=Money(eac, money),
        percent_complete=ratio(cost, eac),
        recognized_revenue=Money(revenue, money),
        unbilled_wip=Money(unbilled_wip(s, revenue, billed), money),
        billed=Money(billed, money),
        collected=Money.from_minor(s.collected_minor, money),
        margin=ratio(revenue - cost, revenue),
        budget=Money(budget, money),
        code=s.code,
        status=s.status,
    )


def recognized_revenue(s: ProjectSums, cost: Decimal, eac: Decimal) -> Decimal:
    """Value delivered so far, by billing method (unknown methods earn nothing)."""
    if s.billing_method in TIME_BASED:
        return value_of_time(s.earned_time_x)
    if s.billing_method == BillingMethod.MILESTONE:
        return minor_to_decimal(s.earned_milestones_minor)
    if s.billing_method == BillingMethod.FIXED_FEE:
        return fixed_fee_earned(minor_to_decimal(s.budget_minor), cost, eac)
    return ZERO_MONEY


def fixed_fee_earned(budget: Decimal, cost: Decimal, eac: Decimal) -> Decimal:
    """budget × (cost ÷ EAC), the unrounded cost-to-cost ratio, capped at the budget."""
    if eac <= 0:
        return ZERO_MONEY
    return min(budget, to_cents(budget * cost / eac))


def unbilled_wip(s: ProjectSums, revenue: Decimal, billed: Decimal) -> Decimal:
    """Work delivered and approved but not yet invoiced, by billing method."""
    if s.billing_method in TIME_BASED:
        return value_of_time(s.unbilled_time_x)
    if s.billing_method == BillingMethod.MILESTONE:
        return minor_to_decimal(s.unbilled_milestones_minor)
    if s.billing_method == BillingMethod.FIXED_FEE:
        return max(ZERO_MONEY, revenue - billed)
    return ZERO_MONEY
