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
from tests.readmodel.firm_builder import FirmBuilder, build
from tests.resolvers.commands.world import gid

PARTS = (
    "actuals", "milestones", "fixedFee", "retainers", "timeAndMaterials", "unbilledTime",
    "weightedPipeline",
)  # fmt: skip
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
    assert len(seen) - baseline == 6  # invoices, milestones, fixed fees, assignments, deals, time
    assert "errors" not in every, every["errors"]
    got = every["data"]["forecast"]
    assert (got["periodStart"], got["periodEnd"], got["asOf"]) == (
        "2026-06-01", "2026-08-31", "2026-06-30",
    )  # fmt: skip
    euros, dollars = got["currencies"]
    assert (euros["currency"], dollars["currency"]) == ("EUR", "USD")
    assert _table(euros) == [
        ("2026-06-01", "3500.00", "2000.00", "3000.00", "4000.00", "0.00", "400.00", "0.00",
         "12900.00"),
        ("2026-07-01", "0.00", "3000.00", "3000.00", "2500.00", "444.44", "1300.00", "1600.00",
         "11844.44"),
        ("2026-08-01", "0.00", "0.00", "3000.00", "3000.00", "10222.22", "0.00", "2100.00",
         "18322.22"),
    ]  # fmt: skip
    zero = ("0.00",) * 6
    assert _table(dollars) == [
        ("2026-06-01", *zero, "1.67", "1.67"),
        ("2026-07-01", *zero, "38.33", "38.33"),
        ("2026-08-01", *zero, "35.00", "35.00"),
    ]
    june, july = euros["months"][:2]
    assert june["actuals"]["sourceIds"] == [gid("Invoice", ids[k]) for k in ("R-1", "INV", "R-2")]
    assert july["retainers"]["shares"] == [  # PR's June fee in part (7,500.00 left); PR2's
        {"sourceId": gid("Project", ids["PR"]), "amount": {"amount": "1500.00"}},
        {"sourceId": gid("Project", ids["PR2"]), "amount": {"amount": "1000.00"}},
    ]
    assert june["retainers"]["shares"] == [  # PR2's March, April and May fees, overdue: now;
        {"sourceId": gid("Project", ids["PR2"]), "amount": {"amount": "3000.00"}},
        {"sourceId": gid("Project", ids["PR3"]), "amount": {"amount": "1000.00"}},  # ended
    ]
    assert june["milestones"]["sourceIds"] == [gid("Milestone", ids["M-LATE"])]
    assert july["milestones"]["sourceIds"] == [gid("Milestone", ids["M-JUL"])]
    assert june["fixedFee"]["sourceIds"] == [gid("Project", ids["PF"])]
    assert july["timeAndMaterials"]["sourceIds"] == [gid("Assignment", ids["A-1"])]
    assert july["weightedPipeline"]["sourceIds"] == [gid("Opportunity", ids["DEAL"])]
    august = euros["months"][2]
    assert august["timeAndMaterials"]["shares"] == [
        {"sourceId": gid("Assignment", ids["A-1"]), "amount": {"amount": "10222.22"}}
    ]
    assert june["unbilledTime"]["shares"] == [
        {"sourceId": gid("Project", ids["PT"]), "amount": {"amount": "400.00"}},
    ]
    assert july["unbilledTime"]["shares"] == [
        {"sourceId": gid("Project", ids["PT"]), "amount": {"amount": "1300.00"}}
    ]
    for block in (euros, dollars):  # every part is the sum of its records' shares
        for month in block["months"]:
            for part in (month[p] for p in PARTS):
                shares = part["shares"]
                assert [s["sourceId"] for s in shares] == part["sourceIds"]
                total = sum((Decimal(s["amount"]["amount"]) for s in shares), Decimal("0.00"))
                assert str(total) == part["amount"]["amount"]
    assert june["explanation"] == (
        "2026-06: actuals EUR 3,500.00 (3 invoices) + milestones EUR 2,000.00 (1 milestone) + "
        "fixed fee EUR 3,000.00 (1 project) + retainers EUR 4,000.00 (2 projects) + time and "
        "materials EUR 0.00 (0 assignments) + unbilled time EUR 400.00 (1 project) + weighted "
        "pipeline EUR 0.00 (0 deals) = EUR 12,900.00."
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
    assert time == ["0.00", "454.55", "10000.00"]  # invoiced the month after it is worked


WIP = """{ forecast(periodStart: "2026-06-01", periodEnd: "2026-09-30", currency: "EUR") {
  currencies { months { month timeAndMaterials { amount { amount } }
    retainers { amount { amount } }
    unbilledTime { shares { sourceId amount { amount } } } } } } }"""


def _time_by_month(body: dict[str, Any]) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    assert "errors" not in body, body["errors"]
    (euros,) = body["data"]["forecast"]["currencies"]
    return [
        (
            m["month"][:7],
            m["timeAndMaterials"]["amount"]["amount"],
            m["retainers"]["amount"]["amount"],
            [(s["sourceId"], s["amount"]["amount"]) for s in m["unbilledTime"]["shares"]],
        )
        for m in euros["months"]
    ]


async def test_time_is_invoiced_as_many_months_after_it_is_worked_as_the_firm_bills(
    engine: AsyncEngine,
) -> None:
    """``forecasts.time_billed_after_months`` moves booked and unbilled time and retainer fees
    alike: 0 places each in the month worked (unbilled time, all before today: now; PR's fees
    June 1,500.00, then 2,000.00 a month; PR2's March to June fees now); 2 places May's
    unbilled time in July, June's in August, A-1's June day in August and its July in
    September, PR's June fee in August, PR2's March and April fees now. PR3, ended in May,
    is forecast while its last fee is invoiced in the current month or later (not at 0:
    May's fee was due in May). PT's unbilled shares are its unbilledWip (1,600.00) less what
    was worked today (1 h × 100.00) and with the time on the draft A-4 (2 h × 100.00)."""
    ids = await build(engine, forecast_firm)
    pt = gid("Project", ids["PT"])
    found = {}
    for lag in (0, 1, 2):
        async with gateway(engine, ForecastSettings(time_billed_after_months=lag)) as app:
            found[lag] = _time_by_month(await ask(app, engine, WIP))
            wip = await ask(
                app,
                engine,
                "query ($id: ID!) { node(id: $id) { ... on Project { unbilledWip { amount } } } }",
                variables={"id": pt},
            )
    assert found[0] == [
        ("2026-06", "444.44", "5500.00", [(pt, "1700.00")]),
        ("2026-07", "10222.22", "3000.00", []),
        ("2026-08", "0.00", "3000.00", []),
        ("2026-09", "0.00", "2000.00", []),
    ]
    assert found[1] == [
        ("2026-06", "0.00", "4000.00", [(pt, "400.00")]),
        ("2026-07", "444.44", "2500.00", [(pt, "1300.00")]),
        ("2026-08", "10222.22", "3000.00", []),
        ("2026-09", "0.00", "3000.00", []),
    ]
    assert found[2] == [
        ("2026-06", "0.00", "2000.00", []),
        ("2026-07", "0.00", "2000.00", [(pt, "400.00")]),
        ("2026-08", "444.44", "2500.00", [(pt, "1300.00")]),
        ("2026-09", "10222.22", "3000.00", []),
    ]
    assert wip["data"]["node"]["unbilledWip"]["amount"] == "1600.00"


async def _open_ended(b: FirmBuilder, ids: dict[str, Any]) -> None:
    acme = await b.account("Acme")
    ids["PR"] = await b.project(
        acme, "PR", "retainer", budget_minor=1_200_000, start_date=date(2026, 1, 1),
        end_date=date(9999, 12, 31),
    )  # fmt: skip
    await b.project(  # a typo's term: its fees fall after any period, the last past 9999
        acme, "PR9", "retainer", budget_minor=1_200_000, start_date=date(9999, 1, 1),
        end_date=date(9999, 12, 31),
    )  # fmt: skip


async def test_an_open_ended_retainer_counts_a_hundred_years(engine: AsyncEngine) -> None:
    """An ERP's open-ended 9999-12-31: 1,200 months of 10.00, none billed — January to May's
    fees due now (50.00 in June), June's in July; its last fee, invoiced in the year 10000,
    is no date and no error."""
    await build(engine, _open_ended)
    async with gateway(engine) as app:
        body = await ask(app, engine, FORECAST, variables={"currency": "EUR"})
    assert "errors" not in body, body["errors"]
    (euros,) = body["data"]["forecast"]["currencies"]
    fees = [m["retainers"]["amount"]["amount"] for m in euros["months"]]
    assert fees == ["50.00", "10.00", "10.00"]


async def _placeholders(b: FirmBuilder, ids: dict[str, Any]) -> None:
    acme = await b.account("Acme")
    await b.opportunity(
        acme, 1_200_000, probability=50, close_date=date(9999, 12, 31), service_line="Strategy"
    )
    await b.project(acme, "PF", "fixed_fee", budget_minor=100_000, end_date=date(9999, 12, 31))


async def test_a_sources_9999_12_31_is_a_date_like_any_other(engine: AsyncEngine) -> None:
    """A CRM's "no close date" and an ERP's open-ended project: the deal's span ends on the
    last day there is (no month of the period holds it: no pipeline, no demand), the fee is
    spread over 95,683 months (0.01 a month) — an answer, not an internal error."""
    await build(engine, _placeholders)
    far = '{ forecast(periodStart: "2999-11-01", periodEnd: "2999-12-31") { currencies { months '
    far += "{ total { amount } } } capacity { month } } }"
    now = "{ forecast { currencies { months { fixedFee { amount { amount } } weightedPipeline "
    now += "{ amount { amount } } } } capacity { month demandHours } } }"
    async with gateway(engine) as app:
        later, soon = await ask(app, engine, far), await ask(app, engine, now)
    assert "errors" not in later and "errors" not in soon, (later, soon)
    (months,) = [c["months"] for c in soon["data"]["forecast"]["currencies"]]
    assert {m["fixedFee"]["amount"]["amount"] for m in months} == {"0.01"}
    assert {m["weightedPipeline"]["amount"]["amount"] for m in months} == {"0.00"}
    assert all(r["demandHours"] == "0.00" for r in soon["data"]["forecast"]["capacity"])
