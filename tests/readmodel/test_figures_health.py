"""Client health of the sample firm: six factors, their penalties, the score and status.

The arithmetic of each penalty is in docs/formulas.md ("Client health").
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.figures import AccountHealth, HealthFactor, account_health
from readmodel.figures.health import status_of
from readmodel.figures.health_factors import WEIGHTS, ramp
from tests.readmodel.firm_builder import TODAY, FirmBuilder, build, sample_firm

R = Decimal


@pytest.fixture
async def ids(engine: AsyncEngine) -> dict[str, int]:
    return await build(engine, sample_firm)


async def health(engine: AsyncEngine, *account_ids: int) -> dict[int, AccountHealth]:
    async with engine.connect() as conn:
        return await account_health(conn, account_ids, TODAY)


async def test_acme_is_red_with_every_factor_explained(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    got = (await health(engine, ids["acme"]))[ids["acme"]]

    assert got.factors == [
        HealthFactor(
            "budget_burn_ahead_of_progress", R("0.2500"), 25, R("12.50"),
            "1 of 4 active projects is burning budget more than 10 points ahead of progress "
            "(worst: PRJ-F, 50% burned vs 20% complete).",
        ),
        HealthFactor(
            "overdue_receivables", R("0.2750"), 25, R("10.94"),
            "EUR 11,000.00 of EUR 40,000.00 open receivables is overdue "
            "(28%, 2 invoices, oldest 30 days past due).",
        ),
        HealthFactor(
            "slipped_milestones", R(2), 15, R("10.00"),
            "2 milestones are past due and still planned (oldest due 2026-06-01, 29 days ago).",
        ),
        HealthFactor(
            "unapproved_time", R("8.25"), 15, R("3.09"),
            "8.25 hours in 2 time entries have waited more than 14 days for approval "
            "(oldest submitted 2026-06-01).",
        ),
        HealthFactor(
            "open_change_orders", R(2), 10, R("6.67"),
            "2 change orders are awaiting a decision (oldest submitted 2026-05-20).",
        ),
        HealthFactor(
            "no_renewal_near_end", R(2), 10, R("10.00"),
            "2 active or signed engagements end by 2026-08-29 (earliest end date 2026-07-31) "
            "and the account has no open opportunity.",
        ),
    ]  # fmt: skip
    # 100 − (12.50 + 10.94 + 10.00 + 3.09 + 6.67 + 10.00) = 46.80 → 47
    assert (got.score, got.status) == (47, "red")


async def test_beta_is_green_on_the_boundary_and_not_rolled_into_its_parent(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    got = await health(engine, ids["beta"], ids["acme"])
    beta = got[ids["beta"]]

    assert [(f.name, f.value, f.penalty) for f in beta.factors] == [
        ("budget_burn_ahead_of_progress", R("0.0000"), R("0.00")),
        ("overdue_receivables", R("1.0000"), R("25.00")),
        ("slipped_milestones", R(0), R("0.00")),
        ("unapproved_time", R("0.00"), R("0.00")),
        ("open_change_orders", R(0), R("0.00")),
        ("no_renewal_near_end", R(0), R("0.00")),
    ]
    assert [f.explanation for f in beta.factors] == [
        "0 of 1 active projects are burning budget more than 10 points ahead of progress.",
        # its EUR receivables are not overdue; the worst currency is reported
        "USD 500.00 of USD 500.00 open receivables is overdue "
        "(100%, 1 invoice, oldest 5 days past due).",
        "No milestone is past its due date and still planned.",
        "No submitted time has waited more than 14 days for approval.",
        "No change order is awaiting a decision.",
        "1 active or signed engagement ends by 2026-08-29 (earliest end date 2026-08-01); "
        "the account has 2 open opportunities.",
    ]
    assert (beta.score, beta.status) == (75, "green")
    assert got[ids["acme"]].score == 47, "the child's figures do not move the parent"


async def test_an_account_without_records_is_fully_healthy(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    got = (await health(engine, ids["idle"]))[ids["idle"]]

    assert (got.score, got.status) == (100, "green")
    assert [f.weight for f in got.factors] == [25, 25, 15, 15, 10, 10]
    assert all(f.penalty == 0 and f.value == 0 for f in got.factors)
    assert [f.explanation for f in got.factors][:2] == [
        "The account has no active projects.",
        "No open receivables.",
    ]
    assert got.factors[-1].explanation == "No active or signed engagement ends within 60 days."


async def test_soft_deleted_unknown_and_no_accounts_are_absent(
    engine: AsyncEngine, ids: dict[str, int]
) -> None:
    assert await health(engine, ids["gone"], 999_999) == {}
    assert await health(engine) == {}


async def test_burn_must_exceed_progress_by_more_than_ten_points(engine: AsyncEngine) -> None:
    async def recipe(b: FirmBuilder, ids: dict[str, int]) -> None:
        ids["a"] = a = await b.account("A")
        person = await b.person("P")
        for code, hours, etc in (("PRJ-A", 5_000, 750_000), ("PRJ-B", 5_001, 750_150)):
            p = await b.project(a, code, "fixed_fee", budget_minor=1_000_000, etc_cost_minor=etc)
            await b.time(p, person, hours, "approved", cost_rate_minor=10_000)

    ids = await build(engine, recipe)
    burn = (await health(engine, ids["a"]))[ids["a"]].factors[0]

    # PRJ-A: 50.00% burned vs 40.00% complete, exactly 10 points: not counted.
    # PRJ-B: 50.01% burned vs 40.00% complete: counted; 1 of 2 is the full-penalty share.
    assert (burn.value, burn.penalty) == (R("0.5000"), R("25.00"))
    assert burn.explanation == (
        "1 of 2 active projects is burning budget more than 10 points ahead of progress "
        "(worst: PRJ-B, 50% burned vs 40% complete)."
    )


def test_weights_sum_to_100() -> None:
    assert sum(WEIGHTS.values()) == 100


@pytest.mark.parametrize(
    ("value", "severity"),
    [("0.05", "0"), ("0.10", "0"), ("0.30", "0.5"), ("0.50", "1"), ("0.90", "1")],
)
def test_ramp_is_piecewise_linear(value: str, severity: str) -> None:
    assert ramp(R(value), R("0.10"), R("0.50")) == R(severity)


@pytest.mark.parametrize(
    ("score", "status"), [(100, "green"), (75, "green"), (74, "amber"), (50, "amber"), (49, "red")]
)
def test_status_thresholds(score: int, status: str) -> None:
    assert status_of(score) == status
