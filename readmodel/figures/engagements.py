"""Engagement (contract / SOW) figures: sold, delivered, billed, backlog.

Formulas and worked examples: docs/formulas.md, "Engagement figures".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel.figures.numbers import ZERO_MONEY
from readmodel.figures.project_sums import project_sums
from readmodel.figures.projects import ProjectFigures, figures_of
from readmodel.figures.sql import ENGAGEMENT, PROJECT, live
from readmodel.money import Money


@dataclass(frozen=True)
class EngagementFigures:
    """What was sold, delivered and billed on one engagement, in its currency."""

    engagement_id: int
    sold_value: Money
    delivered: Money
    billed_to_date: Money
    backlog: Money


async def engagement_figures(
    conn: AsyncConnection, engagement_ids: Sequence[int]
) -> dict[int, EngagementFigures]:
    """Figures of the live engagements among ``engagement_ids`` (5 statements; 0 for no ids).

    Args:
        conn: An open connection to the read model.
        engagement_ids: The engagements wanted; unknown or soft-deleted ids are absent.

    Returns:
        The figures keyed by engagement id.
    """
    if not engagement_ids:
        return {}
    return await engagement_figures_where(conn, ENGAGEMENT.c.id.in_(set(engagement_ids)))


async def engagement_figures_where(
    conn: AsyncConnection, where: ColumnElement[bool]
) -> dict[int, EngagementFigures]:
    """Figures of the live engagements meeting ``where`` (a condition on ``engagement``)."""
    e = ENGAGEMENT.c
    found = (
        await conn.execute(
            select(e.id, e.currency, e.sold_value_minor).where(live(ENGAGEMENT), where)
        )
    ).all()
    scope = select(e.id).where(live(ENGAGEMENT), where)
    projects: dict[int, list[ProjectFigures]] = {}
    for s in await project_sums(conn, PROJECT.c.engagement_id.in_(scope)):
        projects.setdefault(s.engagement_id or 0, []).append(figures_of(s))
    return {
        row.id: _figures(row.id, Money.from_minor(row.sold_value_minor, row.currency), projects)
        for row in found
    }


def _figures(
    engagement_id: int, sold: Money, projects: dict[int, list[ProjectFigures]]
) -> EngagementFigures:
    mine = projects.get(engagement_id, [])
    delivered = sum((p.recognized_revenue.amount for p in mine), ZERO_MONEY)
    billed = sum((p.billed.amount for p in mine), ZERO_MONEY)
    backlog = max(ZERO_MONEY, sold.amount - delivered)
    return EngagementFigures(
        engagement_id=engagement_id,
        sold_value=sold,
        delivered=Money(delivered, sold.currency),
        billed_to_date=Money(billed, sold.currency),
        backlog=Money(backlog, sold.currency),
    )
