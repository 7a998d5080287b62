"""``forecast { capacity }`` with the firm's holidays and the weighted pipeline's demand by role,
over GraphQL/HTTP (docs/formulas.md, "Capacity forecast", second worked example)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings_forecasts import ForecastSettings
from readmodel import tables
from readmodel.db import count_statements
from tests.forecasts.fixtures import ask, gateway
from tests.readmodel.firm_builder import FirmBuilder, build, sample_firm

D = date
HOLIDAYS = [D(2026, 7, 3), D(2026, 8, 15), D(2026, 12, 25)]  # a Friday, a Saturday, later
CAPACITY = """{ forecast(periodStart: "2026-07-01", periodEnd: "2026-09-30") { capacity {
  month role availableHours bookedHours pipelineHours demandHours people assignments deals
  utilization flag explanation } } }"""
CYBER = "Cybersecurity"  # 12 weeks; Principal 20 %, Senior Consultant 40 %, Consultant 40 %


async def capacity_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """Pia (Principal) and Cy (Consultant), 40 h a week; Cy booked 100 h in July; one open
    Cybersecurity deal of 28,000.00 at 50 % closing 07-01, and three that add nothing."""
    acme = ids["acme"] = await b.account("Acme")
    card = await b.add(
        tables.RateCard, name="Cyber EUR", service_line=CYBER, currency="EUR",
        effective_from=D(2026, 1, 1), status="effective",
    )  # fmt: skip
    for role, rate in (
        ("Principal", 20_000),
        ("Senior Consultant", 15_000),
        ("Consultant", 10_000),
    ):
        await b.add(
            tables.RateCardLine, rate_card_id=card, role=role, bill_rate_minor=rate,
            cost_rate_minor=rate // 2,
        )  # fmt: skip
    await b.person("Pia", role="Principal")
    cy = await b.person("Cy", role="Consultant")
    pt = await b.project(acme, "PT", "time_and_materials", rate_card_id=card)
    await b.add(
        tables.Assignment, project_id=pt, person_id=cy, role="Consultant",
        scheduled_hours_x100=10_000, bill_rate_minor=10_000, cost_rate_minor=5_000,
        currency="EUR", start_date=D(2026, 7, 1), end_date=D(2026, 7, 31), status="booked",
    )  # fmt: skip
    deal = {"close_date": D(2026, 7, 1), "probability": 50, "service_line": CYBER}
    ids["deal"] = await b.opportunity(acme, 2_800_000, **deal)
    await b.opportunity(acme, 2_800_000, **{**deal, "service_line": "Legal"})  # no template
    await b.opportunity(acme, 2_800_000, **{**deal, "currency": "USD"})  # no USD card
    won = {"is_won": True, "is_closed": True, "stage": "closed_won", "probability": 100}
    await b.opportunity(acme, 2_800_000, **{**deal, **won})


def _rows(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    assert "errors" not in body, body["errors"]
    keys = ("month", "role", "availableHours", "bookedHours", "pipelineHours", "demandHours")
    return [
        (*(r[k] for k in keys), r["utilization"], r["flag"])
        for r in body["data"]["forecast"]["capacity"]
    ]


async def test_holidays_and_the_weighted_pipeline(engine: AsyncEngine) -> None:
    await build(engine, capacity_firm)
    async with gateway(engine, ForecastSettings(holidays=HOLIDAYS)) as app:
        body = await ask(app, engine, CAPACITY)
        seen = count_statements(app.state.engine)
        await ask(app, engine, '{ forecast(periodStart: "2026-07-01") { asOf } }')
        baseline = len(seen)
        seen.clear()
        await ask(app, engine, CAPACITY)
    assert len(seen) - baseline == 4  # people, booked assignments, open deals, card rates
    # the deal buys 14,000.00 ÷ 140.00 (blended) = 100 h: 20 / 40 / 40 over 07-01 … 09-22,
    # 59 working days (July 22 with 07-03 off, August 21, September 16)
    sc = "Senior Consultant"
    assert _rows(body) == [
        ("2026-07-01", "Consultant", "176.00", "100.00", "14.92", "114.92", 0.653, "UNDER"),
        ("2026-07-01", "Principal", "176.00", "0.00", "7.46", "7.46", 0.0424, "UNDER"),
        ("2026-07-01", sc, "0.00", "0.00", "14.92", "14.92", None, "OVER"),
        ("2026-08-01", "Consultant", "168.00", "0.00", "14.24", "14.24", 0.0848, "UNDER"),
        ("2026-08-01", "Principal", "168.00", "0.00", "7.12", "7.12", 0.0424, "UNDER"),
        ("2026-08-01", sc, "0.00", "0.00", "14.24", "14.24", None, "OVER"),
        ("2026-09-01", "Consultant", "176.00", "0.00", "10.85", "10.85", 0.0616, "UNDER"),
        ("2026-09-01", "Principal", "176.00", "0.00", "5.42", "5.42", 0.0308, "UNDER"),
        ("2026-09-01", sc, "0.00", "0.00", "10.85", "10.85", None, "OVER"),
    ]
    july = body["data"]["forecast"]["capacity"][0]
    assert (july["people"], july["assignments"], july["deals"]) == (1, 1, 1)
    assert july["explanation"] == (
        "2026-07 Consultant: 100.00 h booked (1 assignment) + 14.92 h weighted pipeline "
        "(1 deal) = 114.92 h ÷ 176.00 h available (1 person) = utilization 0.6530; over above "
        "1, under below 0.7."
    )


PORTFOLIO = """{ portfolio(periodStart: "2026-06-01", periodEnd: "2026-06-30") {
  billableHours availableHours utilization } }"""


async def test_the_portfolios_available_hours_leave_out_the_same_holidays(
    engine: AsyncEngine,
) -> None:
    """``Portfolio.utilization`` counts working days as ``forecast { capacity }`` does: the
    sample firm's June 2026 (docs/formulas.md, "Portfolio KPIs") has 22 working days; with
    Monday 06-15 a holiday (Saturday 06-20 and 07-01 change nothing) it has 21."""
    await build(engine, sample_firm)
    june = [D(2026, 6, 15), D(2026, 6, 20), D(2026, 7, 1)]
    answers = []
    for holidays in ([], june):
        async with gateway(engine, ForecastSettings(holidays=holidays)) as app:
            body = await ask(app, engine, PORTFOLIO)
        assert "errors" not in body, body["errors"]
        answers.append(body["data"]["portfolio"])
    assert answers == [
        # (40 + 32) h a week × 22 working days ÷ 5 = 316.80; 113 ÷ 316.8 = 0.356692…
        {"billableHours": "113.00", "availableHours": "316.80", "utilization": 0.3567},
        # × 21 working days ÷ 5 = 302.40; 113 ÷ 302.4 = 0.373677…
        {"billableHours": "113.00", "availableHours": "302.40", "utilization": 0.3737},
    ]
