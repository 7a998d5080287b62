"""Project figures of the sample firm, every billing method, worked out by hand.

The arithmetic of each expected value is in docs/formulas.md ("Project figures").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import count_statements
from readmodel.figures import ProjectFigures, project_figures
from readmodel.figures.projects import fixed_fee_earned
from readmodel.money import Money
from tests.readmodel.firm_builder import FirmBuilder, build, sample_firm

R = Decimal


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def expected(ids: dict[str, int], label: str, code: str, status: str, **f: Any) -> ProjectFigures:
    """The figures of the sample project ``label``, all in EUR."""
    return ProjectFigures(project_id=ids[label], currency="EUR", code=code, status=status, **f)


@pytest.fixture
async def ids(engine: AsyncEngine) -> dict[str, int]:
    return await build(engine, sample_firm)


async def figures(engine: AsyncEngine, *project_ids: int) -> dict[int, ProjectFigures]:
    async with engine.connect() as conn:
        return await project_figures(conn, project_ids)


async def test_time_and_materials(engine: AsyncEngine, ids: dict[str, int]) -> None:
    got = (await figures(engine, ids["T"]))[ids["T"]]

    assert got == expected(
        ids, "T", "PRJ-T", "active",
        hours_logged=R("42.25"),  # 10 + 20 + 5.25 + 4 + 2 + 1; rejected and deleted left out
        billable_hours=R("36.25"),  # the draft 4 h and approved 2 h are non-billable
        cost_to_date=eur("3480.00"),  # 10 h × 90 + 32.25 h × 80
        budget_burn=R("0.3480"),
        hours_burn=R("0.4225"),
        eac=eur("5480.00"),
        percent_complete=R("0.6350"),  # 3,480 ÷ 5,480 = 0.63504
        recognized_revenue=eur("4650.00"),  # (10 + 20 + 1) h × 150, approved or invoiced
        unbilled_wip=eur("1500.00"),  # the 1 h on draft INV-2 has an invoice: not WIP
        billed=eur("3000.00"),  # INV-1; draft INV-2 and soft-deleted INV-7 left out
        collected=eur("2000.00"),  # the payment on soft-deleted INV-7 is left out
        margin=R("0.2516"),  # (4,650 − 3,480) ÷ 4,650
        budget=eur("10000.00"),
    )  # fmt: skip
    assert str(got.cost_to_date.amount) == "3480.00" and str(got.hours_logged) == "42.25"


async def test_fixed_fee(engine: AsyncEngine, ids: dict[str, int]) -> None:
    got = (await figures(engine, ids["F"]))[ids["F"]]

    assert got == expected(
        ids, "F", "PRJ-F", "active",
        hours_logged=R("50.00"),
        billable_hours=R("50.00"),
        cost_to_date=eur("5000.00"),
        budget_burn=R("0.5000"),
        hours_burn=R("0.5000"),
        eac=eur("25000.00"),  # 5,000 + estimate to complete 20,000
        percent_complete=R("0.2000"),
        recognized_revenue=eur("2000.00"),  # budget 10,000 × 0.2
        unbilled_wip=eur("500.00"),  # 2,000 recognized − 1,500 billed
        billed=eur("1500.00"),
        collected=eur("1500.00"),
        margin=R("-1.5000"),  # (2,000 − 5,000) ÷ 2,000
        budget=eur("10000.00"),
    )  # fmt: skip


async def test_milestone(engine: AsyncEngine, ids: dict[str, int]) -> None:
    got = (await figures(engine, ids["M"]))[ids["M"]]

    assert got == expected(
        ids, "M", "PRJ-M", "active",
        hours_logged=R("40.00"),
        billable_hours=R("40.00"),
        cost_to_date=eur("4000.00"),
        budget_burn=R("0.1333"),
        hours_burn=None,  # no budget hours
        eac=eur("4000.00"),
        percent_complete=R("1.0000"),
        recognized_revenue=eur("23000.00"),  # invoiced 10,000 + approved 8,000 + completed 5,000
        unbilled_wip=eur("13000.00"),  # approved + completed
        billed=eur("10000.00"),
        collected=eur("0.00"),  # its only payment is soft-deleted
        margin=R("0.8261"),  # 19,000 ÷ 23,000
        budget=eur("30000.00"),
    )  # fmt: skip


async def test_retainer_earns_like_time_and_materials(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    got = (await figures(engine, ids["R"]))[ids["R"]]

    assert got == expected(
        ids, "R", "PRJ-R", "completed",
        hours_logged=R("15.00"),
        billable_hours=R("15.00"),
        cost_to_date=eur("750.00"),
        budget_burn=R("0.1500"),
        hours_burn=R("0.7500"),
        eac=eur("750.00"),
        percent_complete=R("1.0000"),
        recognized_revenue=eur("1500.00"),
        unbilled_wip=eur("500.00"),
        billed=eur("1000.00"),
        collected=eur("1000.00"),
        margin=R("0.5000"),
        budget=eur("5000.00"),
    )  # fmt: skip


async def test_non_billable_earns_nothing_and_zero_divisors_give_none(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    got = (await figures(engine, ids["N"]))[ids["N"]]

    assert got == expected(
        ids, "N", "PRJ-N", "active",
        hours_logged=R("12.00"),
        billable_hours=R("0.00"),
        cost_to_date=eur("600.00"),
        budget_burn=None,
        hours_burn=None,
        eac=eur("600.00"),
        percent_complete=R("1.0000"),
        recognized_revenue=eur("0.00"),
        unbilled_wip=eur("0.00"),
        billed=eur("0.00"),
        collected=eur("0.00"),
        margin=None,
        budget=eur("0.00"),
    )  # fmt: skip


async def test_a_project_without_any_rows_has_none_ratios(engine: AsyncEngine) -> None:
    async def recipe(b: FirmBuilder, ids: dict[str, int]) -> None:
        acme = await b.account("Acme")
        ids["P"] = await b.project(acme, "PRJ-0", "fixed_fee", budget_minor=100_000)

    ids = await build(engine, recipe)
    got = (await figures(engine, ids["P"]))[ids["P"]]

    assert got.cost_to_date == eur("0.00") and got.eac == eur("0.00")
    assert got.budget_burn == R("0.0000")
    assert (got.percent_complete, got.hours_burn, got.margin) == (None, None, None)
    assert got.recognized_revenue == eur("0.00") and got.unbilled_wip == eur("0.00")


async def test_one_batch_answers_many_projects(engine: AsyncEngine, ids: dict[str, int]) -> None:
    wanted = [ids[k] for k in ("T", "F", "M", "R", "N", "B1")]

    got = await figures(engine, *wanted, *wanted)

    assert sorted(got) == sorted(wanted)
    assert got[ids["B1"]].recognized_revenue == eur("1200.00")
    assert got[ids["B1"]].margin == R("0.5000")


async def test_soft_deleted_and_unknown_projects_are_absent(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    assert await figures(engine, ids["X"], 999_999) == {}


async def test_no_ids_no_statements(engine: AsyncEngine) -> None:
    statements = count_statements(engine)
    assert await figures(engine) == {}
    assert statements == []


def test_fixed_fee_revenue_is_capped_at_the_budget() -> None:
    # a negative estimate to complete makes EAC smaller than the cost so far
    assert fixed_fee_earned(R("100.00"), R("150.00"), R("120.00")) == R("100.00")
    assert fixed_fee_earned(R("100.00"), R("1.00"), R("3.00")) == R("33.33")
    assert fixed_fee_earned(R("100.00"), R("0.00"), R("0.00")) == R("0.00")
