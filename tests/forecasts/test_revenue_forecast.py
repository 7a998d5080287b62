"""``forecast`` over GraphQL/HTTP on the firm of docs/formulas.md ("Revenue forecast")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings_forecasts import ForecastSettings
from readmodel.db import count_statements
from tests.conftest import error_codes
from tests.forecasts.fixtures import ask, forecast_firm, gateway
from tests.readmodel.firm_builder import build
from tests.resolvers.commands.world import gid

PARTS = ("actuals", "milestones", "fixedFee", "timeAndMaterials", "weightedPipeline")
FORECAST = (
    """query ($currency: String) {
  forecast(periodStart: "2026-06-01", periodEnd: "2026-08-31", currency: $currency) {
    periodStart periodEnd asOf currencies { currency months { month total { amount }
    explanation """
    + " ".join(
        f"{p} {{ amount {{ amount }} count sourceIds shares {{ sourceId amount {{ amount }} }} }}"
        for p in PARTS
    )
    + " } } } }"
)


CAPACITY = """{ forecast(periodStart: "2026-06-01", periodEnd: "2026-08-31") { capacity {
  month role availableHours demandHours people assignments utilization flag explanation } } }"""


def _capacity(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    assert "errors" not in body, body["errors"]
    rows = body["data"]["forecast"]["capacity"]
    keys = ("month", "role", "availableHours", "demandHours", "utilization", "flag")
    return [tuple(r[k] for k in keys) for r in rows]


def _table(block: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        (m["month"], *(m[p]["amount"]["amount"] for p in PARTS), m["total"]["amount"])
        for m in block["months"]
    ]


async def test_the_worked_example(engine: AsyncEngine) -> None:
    ids = await build(engine, forecast_firm)
    async with gateway(engine) as app:
        every = await ask(app, engine, FORECAST)
        eur = await ask(app, engine, FORECAST, variables={"currency": "EUR"})
        partner = await ask(app, engine, FORECAST, role="partner", accounts=[ids["acme"]])
        capacity = await ask(app, engine, CAPACITY)
        bad = await ask(app, engine, FORECAST, variables={"currency": "euro"})
        too_long = await ask(app, engine, '{ forecast(periodEnd: "2029-07-01") { asOf } }')
        seen = count_statements(app.state.engine)
        await ask(app, engine, "{ __typename }")
        baseline = len(seen)
        seen.clear()
        await ask(app, engine, FORECAST)
    assert len(seen) - baseline == 5  # invoices, milestones, fixed fees, assignments, deals
    assert "errors" not in every, every["errors"]
    got = every["data"]["forecast"]
    assert (got["periodStart"], got["periodEnd"], got["asOf"]) == (
        "2026-06-01", "2026-08-31", "2026-06-30",
    )  # fmt: skip
    euros, dollars = got["currencies"]
    assert (euros["currency"], dollars["currency"]) == ("EUR", "USD")
    assert _table(euros) == [
        ("2026-06-01", "1000.00", "2000.00", "3000.00", "444.44", "0.00", "6444.44"),
        ("2026-07-01", "0.00", "3000.00", "3000.00", "10222.22", "1600.00", "17822.22"),
        ("2026-08-01", "0.00", "0.00", "3000.00", "0.00", "2100.00", "5100.00"),
    ]
    assert _table(dollars) == [
        ("2026-06-01", "0.00", "0.00", "0.00", "0.00", "1.67", "1.67"),
        ("2026-07-01", "0.00", "0.00", "0.00", "0.00", "38.33", "38.33"),
        ("2026-08-01", "0.00", "0.00", "0.00", "0.00", "35.00", "35.00"),
    ]
    june, july = euros["months"][:2]
    assert june["actuals"]["sourceIds"] == [gid("Invoice", ids["INV"])]
    assert june["milestones"]["sourceIds"] == [gid("Milestone", ids["M-LATE"])]
    assert july["milestones"]["sourceIds"] == [gid("Milestone", ids["M-JUL"])]
    assert june["fixedFee"]["sourceIds"] == [gid("Project", ids["PF"])]
    assert july["timeAndMaterials"]["sourceIds"] == [gid("Assignment", ids["A-1"])]
    assert july["weightedPipeline"]["sourceIds"] == [gid("Opportunity", ids["DEAL"])]
    assert july["timeAndMaterials"]["shares"] == [
        {"sourceId": gid("Assignment", ids["A-1"]), "amount": {"amount": "10222.22"}}
    ]
    for block in (euros, dollars):  # every part is the sum of its records' shares
        for month in block["months"]:
            for part in (month[p] for p in PARTS):
                shares = part["shares"]
                assert [s["sourceId"] for s in shares] == part["sourceIds"]
                total = sum((Decimal(s["amount"]["amount"]) for s in shares), Decimal("0.00"))
                assert str(total) == part["amount"]["amount"]
    assert june["explanation"] == (
        "2026-06: actuals EUR 1,000.00 (1 invoice) + milestones EUR 2,000.00 (1 milestone) + "
        "fixed fee EUR 3,000.00 (1 project) + time and materials EUR 444.44 (1 assignment) + "
        "weighted pipeline EUR 0.00 (0 deals) = EUR 6,444.44."
    )
    assert eur["data"]["forecast"]["currencies"] == [euros]
    assert _capacity(capacity) == [
        ("2026-06-01", "analyst", "6.40", "0.00", 0.0, "UNDER"),
        ("2026-06-01", "consultant", "8.00", "4.44", 0.555, "UNDER"),
        ("2026-07-01", "analyst", "147.20", "0.00", 0.0, "UNDER"),
        ("2026-07-01", "consultant", "184.00", "252.22", 1.3708, "OVER"),
        ("2026-08-01", "analyst", "134.40", "120.00", 0.8929, "OK"),
        ("2026-08-01", "consultant", "168.00", "0.00", 0.0, "UNDER"),
    ]
    assert capacity["data"]["forecast"]["capacity"][3]["explanation"] == (
        "2026-07 consultant: 252.22 h booked (2 assignments) ÷ 184.00 h available (1 person) = "
        "utilization 1.3708; over above 1, under below 0.7."
    )
    assert error_codes(partner) == ["FORBIDDEN"]
    assert error_codes(bad) == error_codes(too_long) == ["BAD_USER_INPUT"]


async def test_time_spreads_over_working_days_less_the_firms_holidays(engine: AsyncEngine) -> None:
    """A-1 (200 h × EUR 100.00, 2026-06-01 … 07-31): 45 working days, 44 with Tuesday
    07-14 a holiday (Saturday 07-04 changes nothing). Today 06-30 keeps 1 day of June:
    20,000.00 × 1 ÷ 44 = 454.55 and July 20,000.00 × 22 ÷ 44 = 10,000.00 (without the
    holiday: 444.44 and 10,222.22, the worked example)."""
    await build(engine, forecast_firm)
    holidays = ForecastSettings(holidays=[date(2026, 7, 14), date(2026, 7, 4)])
    async with gateway(engine, holidays) as app:
        body = await ask(app, engine, FORECAST, variables={"currency": "EUR"})
    assert "errors" not in body, body["errors"]
    (euros,) = body["data"]["forecast"]["currencies"]
    time = [m["timeAndMaterials"]["amount"]["amount"] for m in euros["months"]]
    assert time == ["454.55", "10000.00", "0.00"]
