"""Engagement figures: sold, delivered (Σ recognized revenue), billed, backlog floored at 0."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.figures import EngagementFigures, engagement_figures
from readmodel.money import Money
from tests.readmodel.firm_builder import build, sample_firm


def money(amount: str, currency: str = "EUR") -> Money:
    return Money(Decimal(amount), currency)


@pytest.fixture
async def ids(engine: AsyncEngine) -> dict[str, int]:
    return await build(engine, sample_firm)


async def figures(engine: AsyncEngine, *engagement_ids: int) -> dict[int, EngagementFigures]:
    async with engine.connect() as conn:
        return await engagement_figures(conn, engagement_ids)


async def test_sold_delivered_billed_backlog(engine: AsyncEngine, ids: dict[str, int]) -> None:
    got = await figures(engine, *(ids[k] for k in ("E1", "E2", "E3", "E4", "E7")))

    def row(label: str, *amounts: str, cur: str = "EUR") -> EngagementFigures:
        sold, delivered, billed, backlog = (money(a, cur) for a in amounts)
        return EngagementFigures(ids[label], sold, delivered, billed, backlog)

    assert got == {
        # PRJ-T only: the soft-deleted PRJ-X (100 approved hours) is not delivered value
        ids["E1"]: row("E1", "50000.00", "4650.00", "3000.00", "45350.00"),
        ids["E2"]: row("E2", "10000.00", "2000.00", "1500.00", "8000.00"),
        ids["E3"]: row("E3", "30000.00", "23000.00", "10000.00", "7000.00"),
        # delivered 1,200 beyond the 1,000 sold: backlog floors at 0
        ids["E4"]: row("E4", "1000.00", "1200.00", "0.00", "0.00"),
        ids["E7"]: row("E7", "2500.00", "0.00", "0.00", "2500.00", cur="USD"),
    }


async def test_soft_deleted_and_unknown_engagements_are_absent(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    assert await figures(engine, ids["E8"], 999_999) == {}
    assert await figures(engine) == {}
