"""``billingDelays`` over GraphQL/HTTP on the hand-made firm of docs/formulas.md
("Billing delays"): today 2026-06-30, grace 14 days for milestones, 30 for time."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings_forecasts import ForecastSettings
from readmodel.db import count_statements
from tests.conftest import error_codes
from tests.forecasts.fixtures import ask, billing_firm, gateway
from tests.readmodel.firm_builder import build
from tests.resolvers.commands.world import gid

DELAYS = """query ($first: Int! = 100) { billingDelays { asOf milestoneGraceDays timeGraceDays
  uninvoicedMilestones(first: $first) { owner amount { amount currency } completedOn
    daysWaiting milestone { id status } project { code } }
  unbilledTime(first: $first) { owner entries hours amount { amount currency }
    oldestWorkDate daysWaiting project { code } }
  overdueInvoices(first: $first) { owner balance { amount currency } daysOverdue bucket
    invoice { number } }
  aging { bucket currency invoices balance { amount currency } } } }"""


def eur(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def _overdue(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["invoice"]["number"], r["owner"], r["balance"]["amount"], r["daysOverdue"], r["bucket"])
        for r in rows
    ]


async def test_the_worked_example_and_who_may_see_it(engine: AsyncEngine) -> None:
    ids = await build(engine, billing_firm)
    await _thresholds_are_settings(engine)  # other settings, on the same firm
    async with gateway(engine) as app:
        body = await ask(app, engine, DELAYS)
        refused = {r: await ask(app, engine, DELAYS, role=r) for r in ("delivery", "partner")}
        operator = await ask(app, engine, DELAYS, role="operator")
        beta_only = await ask(app, engine, DELAYS, accounts=[ids["beta"]])
        once = await _statements(app, engine)
        await build(engine, billing_firm)  # a second firm: twice the rows
        twice = await _statements(app, engine)
    # four lists + the projects of the milestones and of the time: one batch, or two when
    # the lists finish in different ticks of the event loop; never one per row
    assert once in (5, 6) and twice in (5, 6)
    assert "errors" not in body, body["errors"]
    got = body["data"]["billingDelays"]
    assert (got["asOf"], got["milestoneGraceDays"], got["timeGraceDays"]) == ("2026-06-30", 14, 30)
    assert got["uninvoicedMilestones"] == [
        {"owner": "Mia", "amount": eur("5000.00"), "completedOn": "2026-06-01", "daysWaiting": 29,
         "milestone": {"id": gid("Milestone", ids["m1"]), "status": "COMPLETED"},
         "project": {"code": "P1"}},
        {"owner": "Mia", "amount": eur("2000.00"), "completedOn": "2026-06-15", "daysWaiting": 15,
         "milestone": {"id": gid("Milestone", ids["m3"]), "status": "APPROVED"},
         "project": {"code": "P1"}},
    ]  # fmt: skip
    assert got["unbilledTime"] == [
        {"owner": "Mia", "entries": 1, "hours": "1.00", "amount": eur("123.45"),
         "oldestWorkDate": "2026-04-30", "daysWaiting": 61, "project": {"code": "P1"}},
        {"owner": "Max", "entries": 2, "hours": "10.50", "amount": eur("1575.00"),
         "oldestWorkDate": "2026-05-20", "daysWaiting": 41, "project": {"code": "P2"}},
    ]  # fmt: skip
    assert _overdue(got["overdueInvoices"]) == [
        ("I6", "Olga", "900.00", 91, "DAYS_OVER_90"),
        ("I5", "Bob", "700.00", 90, "DAYS_61_90"),
        ("I4", "Bob", "600.00", 31, "DAYS_31_60"),
        ("I3", "Olga", "250.00", 30, "DAYS_0_30"),
        ("I2", "Olga", "400.00", 1, "DAYS_0_30"),
    ]
    assert got["aging"] == [
        {"bucket": "DAYS_0_30", "currency": "EUR", "invoices": 2, "balance": eur("650.00")},
        {"bucket": "DAYS_31_60", "currency": "EUR", "invoices": 1, "balance": eur("600.00")},
        {"bucket": "DAYS_61_90", "currency": "EUR", "invoices": 1, "balance": eur("700.00")},
        {"bucket": "DAYS_OVER_90", "currency": "USD", "invoices": 1,
         "balance": eur("900.00", "USD")},
    ]  # fmt: skip
    _roles_and_scope(refused, operator, beta_only)


def _roles_and_scope(
    refused: dict[str, dict[str, Any]], operator: dict[str, Any], beta_only: dict[str, Any]
) -> None:
    for role, body in refused.items():
        assert error_codes(body) == ["FORBIDDEN"], role
        assert body["errors"][0]["extensions"]["operation"] == "billingDelays"
    assert "errors" not in operator
    got = beta_only["data"]["billingDelays"]
    assert got["uninvoicedMilestones"] == []
    assert [t["project"]["code"] for t in got["unbilledTime"]] == ["P2"]
    assert [i[0] for i in _overdue(got["overdueInvoices"])] == ["I5", "I4"]
    assert [(a["bucket"], a["balance"]["amount"]) for a in got["aging"]] == [
        ("DAYS_31_60", "600.00"),
        ("DAYS_61_90", "700.00"),
    ]


async def _thresholds_are_settings(engine: AsyncEngine) -> None:
    settings = ForecastSettings(milestone_invoice_days=0, unbilled_time_days=40)
    async with gateway(engine, settings) as app:
        body = await ask(app, engine, DELAYS, variables={"first": 1})
        bad = await ask(app, engine, DELAYS, variables={"first": -1})
    got = body["data"]["billingDelays"]
    assert (got["milestoneGraceDays"], got["timeGraceDays"]) == (0, 40)
    [first_milestone] = got["uninvoicedMilestones"]
    assert first_milestone["daysWaiting"] == 29
    assert [t["project"]["code"] for t in got["unbilledTime"]] == ["P1"]
    assert _overdue(got["overdueInvoices"]) == [("I6", "Olga", "900.00", 91, "DAYS_OVER_90")]
    assert len(got["aging"]) == 4, "the buckets sum every overdue invoice, not the first"
    assert set(error_codes(bad)) == {"BAD_USER_INPUT"}
    query = "{ billingDelays { uninvoicedMilestones { daysWaiting } } }"
    async with gateway(engine, ForecastSettings(milestone_invoice_days=0)) as app:
        body = await ask(app, engine, query)
    waits = [m["daysWaiting"] for m in body["data"]["billingDelays"]["uninvoicedMilestones"]]
    assert waits == [29, 15, 14]  # completed before today; the 06-16 one now counts


async def _statements(app: Any, engine: AsyncEngine) -> int:
    seen = count_statements(app.state.engine)
    await ask(app, engine, "{ billingDelays { asOf } }")
    baseline = len(seen)  # authentication, the freshness stamp
    seen.clear()
    body = await ask(app, engine, DELAYS)
    assert "errors" not in body
    return len(seen) - baseline
