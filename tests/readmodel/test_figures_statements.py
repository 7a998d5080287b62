"""N+1 guard: each figure function runs the same statements for 2 records as for 20."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.db import count_statements
from readmodel.figures import account_health, engagement_figures, portfolio_kpis, project_figures
from tests.readmodel.firm_builder import PERIOD, TODAY, FirmBuilder, at, build

Figures = Callable[[AsyncConnection, list[int]], Awaitable[Any]]


def clients(n: int) -> Callable[[FirmBuilder, dict[str, Any]], Awaitable[None]]:
    """``n`` accounts, each with one engagement, project and a row of every kind."""

    async def recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
        person = await b.person("P")
        for i in range(n):
            a = await b.account(f"A{i}")
            e = await b.engagement(a, 1_000_000, end_date=date(2026, 7, 15))
            p = await b.project(a, f"P{i}", "fixed_fee", engagement_id=e, budget_minor=500_000)
            await b.time(p, person, 800, "submitted", submitted_at=at(date(2026, 6, 1)))
            await b.milestone(p, 10_000, "planned", date(2026, 6, 1))
            await b.change_order(p, "submitted", at(date(2026, 6, 1)))
            inv = await b.invoice(a, f"I{i}", 10_000, 5_000, project_id=p, status="partially_paid")
            await b.payment(inv, a, 5_000, date(2026, 6, 15))
            await b.opportunity(a, 10_000)
            for key, value in (("accounts", a), ("engagements", e), ("projects", p)):
                ids.setdefault(key, []).append(value)

    return recipe


async def statements(engine: AsyncEngine, fetch: Figures, ids: list[int]) -> int:
    async with engine.connect() as conn:
        seen = count_statements(engine)
        found = await fetch(conn, ids)
    assert len(found) == len(ids)
    return len(seen)


async def test_constant_statements_for_2_and_20_records(engine: AsyncEngine) -> None:
    small, large = await build(engine, clients(2)), await build(engine, clients(20))

    def health(conn: AsyncConnection, ids: list[int]) -> Awaitable[Any]:
        return account_health(conn, ids, TODAY)

    for fetch, key, expected in (
        (project_figures, "projects", 4),
        (engagement_figures, "engagements", 5),
        (health, "accounts", 11),
    ):
        counts = [await statements(engine, fetch, firm[key]) for firm in (small, large)]
        assert counts == [expected, expected], f"{key}: {counts}"


async def test_portfolio_kpis_run_ten_statements(engine: AsyncEngine) -> None:
    await build(engine, clients(20))
    seen = count_statements(engine)
    async with engine.connect() as conn:
        await portfolio_kpis(conn, *PERIOD, TODAY)
    assert len(seen) == 10
