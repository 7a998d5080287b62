"""Forecast accuracy over GraphQL/HTTP (docs/formulas.md, "Forecast accuracy"), and the daily
snapshot job that feeds it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings
from readmodel import tables
from readmodel.db import count_statements
from readmodel.forecasts.snapshots import SNAPSHOT
from sync_jobs.context import DEPS_KEY, sync_deps
from sync_jobs.forecast_snapshots import snapshot_forecast
from tests.conftest import error_codes
from tests.forecasts.fixtures import ask, gateway
from tests.readmodel.firm_builder import FirmBuilder, build
from tests.resolvers.commands.world import url_of

D = date
ACCURACY = """{ portfolio(periodStart: "2026-04-01", periodEnd: "2026-06-30") {
  forecastAccuracy { months
    byHorizon { currency serviceLine horizon snapshots months forecast { amount }
      actual { amount } absoluteError { amount } signedError { amount } wape bias mape
      explanation pairs { takenOn month forecast { amount } actual { amount } } }
    byServiceLine { currency serviceLine horizon snapshots wape bias mape } } } }"""
KPIS = """{ portfolio(periodStart: "2026-04-01") { utilization billableHours availableHours
  currencies { billed { amount } dso } } }"""
KPI_STATEMENTS = 10
"""``readmodel.figures.portfolio_kpis``' statements, run when a KPI field is selected."""
# (taken on, month, currency, service line, amount in cents): June is not closed on 06-30
SNAPSHOTS = [
    (D(2026, 3, 15), D(2026, 4, 1), "EUR", "Strategy", 120_000),
    (D(2026, 3, 15), D(2026, 5, 1), "EUR", "Strategy", 150_000),
    (D(2026, 4, 1), D(2026, 4, 1), "EUR", "Strategy", 100_000),
    (D(2026, 4, 1), D(2026, 4, 1), "EUR", "", 60_000),
    (D(2026, 4, 1), D(2026, 4, 1), "USD", "", 10_000),
    (D(2026, 4, 1), D(2026, 5, 1), "EUR", "Strategy", 240_000),
    (D(2026, 4, 1), D(2026, 5, 1), "EUR", "", 10_000),
    (D(2026, 4, 1), D(2026, 6, 1), "EUR", "Strategy", 99_900),
]


async def accuracy_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """Billed in April: Strategy 1,000.00, no line 500.00; in May: Strategy 2,000.00."""
    acme = ids["acme"] = await b.account("Acme")
    card = await b.add(
        tables.RateCard, name="Strategy EUR", service_line="Strategy", currency="EUR",
        effective_from=D(2026, 1, 1), status="effective",
    )  # fmt: skip
    ps = ids["PS"] = await b.project(acme, "PS", "milestone", rate_card_id=card)
    px = await b.project(acme, "PX", "time_and_materials")
    paid = {"status": "paid"}
    await b.invoice(acme, "S-1", 100_000, 0, project_id=ps, issue_date=D(2026, 4, 10), **paid)
    await b.invoice(acme, "X-1", 50_000, 0, project_id=px, issue_date=D(2026, 4, 20), **paid)
    await b.invoice(acme, "S-2", 200_000, 0, project_id=ps, issue_date=D(2026, 5, 5), **paid)
    await b.invoice(acme, "S-3", 30_000, 30_000, project_id=ps, issue_date=D(2026, 5, 6),
                    status="draft")  # fmt: skip
    ids["M-JUL"] = await b.milestone(ps, 300_000, "planned", D(2026, 7, 15))


async def _store(engine: AsyncEngine) -> None:
    rows = [
        {
            "taken_on": day, "month": month, "currency": cur, "service_line": line,
            "amount_minor": cents,
            "horizon": (month.year - day.year) * 12 + month.month - day.month,
        }
        for day, month, cur, line, cents in SNAPSHOTS
    ]  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(insert(SNAPSHOT), rows)


def _rows(body: dict[str, Any], field: str, keys: tuple[str, ...]) -> list[tuple[Any, ...]]:
    assert "errors" not in body, body["errors"]
    found = body["data"]["portfolio"]["forecastAccuracy"][field]
    return [tuple(r[k] for k in keys) for r in found]


async def test_the_worked_example(engine: AsyncEngine) -> None:
    ids = await build(engine, accuracy_firm)
    await _store(engine)
    async with gateway(engine) as app:
        body = await ask(app, engine, ACCURACY)
        partner = await ask(app, engine, ACCURACY, role="partner", accounts=[ids["acme"]])
        seen = count_statements(app.state.engine)
        await ask(app, engine, '{ portfolio(periodStart: "2026-04-01") { periodStart } }')
        baseline = len(seen)
        seen.clear()
        await ask(app, engine, ACCURACY)
        accuracy = len(seen)
        seen.clear()
        await ask(app, engine, KPIS)
        kpis = len(seen)
    assert accuracy - baseline == 2  # the snapshots, the actuals: none of the KPIs'
    assert kpis - baseline == KPI_STATEMENTS  # once for all the KPI fields selected
    assert body["data"]["portfolio"]["forecastAccuracy"]["months"] == ["2026-04-01", "2026-05-01"]
    keys = ("currency", "serviceLine", "horizon", "snapshots", "months", "wape", "bias", "mape")
    assert _rows(body, "byHorizon", keys) == [
        ("EUR", None, 0, 1, 1, 0.0667, 0.0667, 0.0667),
        ("EUR", None, 1, 2, 2, 0.2286, 0.0571, 0.225),
        ("EUR", None, 2, 1, 1, 0.25, -0.25, 0.25),
        ("USD", None, 0, 1, 1, None, None, None),
    ]
    sums = ("forecast", "actual", "absoluteError", "signedError")
    h1 = body["data"]["portfolio"]["forecastAccuracy"]["byHorizon"][1]
    assert [h1[k]["amount"] for k in sums] == ["3700.00", "3500.00", "800.00", "200.00"]
    assert [(p["takenOn"], p["month"], p["forecast"]["amount"], p["actual"]["amount"])
            for p in h1["pairs"]] == [
        ("2026-03-15", "2026-04-01", "1200.00", "1500.00"),  # Strategy 1,000 + no line 500
        ("2026-04-01", "2026-05-01", "2500.00", "2000.00"),  # Strategy 2,400 + no line 100
    ]  # fmt: skip
    assert h1["explanation"] == (
        "EUR, all service lines, 1 month ahead: 2 snapshots of 2 closed months; "
        "WAPE = Σ|F − A| EUR 800.00 ÷ ΣA EUR 3,500.00 = 0.2286; bias = Σ(F − A) EUR 200.00 "
        "÷ ΣA = 0.0571; MAPE = mean |F − A| ÷ A over 2 pairs = 0.2250."
    )
    assert _rows(body, "byServiceLine", keys[:4] + keys[5:]) == [
        ("EUR", "", 0, 1, 0.2, 0.2, 0.2),
        ("EUR", "", 1, 2, 1.2, -0.8, 1.0),
        ("EUR", "Strategy", 0, 1, 0.0, 0.0, 0.0),
        ("EUR", "Strategy", 1, 2, 0.2, 0.2, 0.2),
        ("EUR", "Strategy", 2, 1, 0.25, -0.25, 0.25),
        ("USD", "", 0, 1, None, None, None),
    ]
    assert error_codes(partner) == ["FORBIDDEN"]


async def _snapshot(engine: AsyncEngine, day: date) -> dict[str, Any]:
    settings = Settings(database_url=url_of(engine))
    clock = datetime(day.year, day.month, day.day, 2, 17, tzinfo=UTC)
    async with sync_deps(settings, engine=engine, clock=lambda: clock) as deps:
        return await snapshot_forecast({DEPS_KEY: deps})


async def _stored(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    s = SNAPSHOT.c
    async with engine.connect() as conn:
        found = await conn.execute(
            select(s.taken_on, s.month, s.horizon, s.currency, s.service_line, s.amount_minor)
            .where(s.amount_minor != 0)
            .order_by(s.taken_on, s.month, s.currency, s.service_line)
        )
        return [tuple(r) for r in found]


async def test_the_job_stores_one_snapshot_a_day(engine: AsyncEngine) -> None:
    await build(engine, accuracy_firm)
    first = await _snapshot(engine, D(2026, 6, 30))
    again = await _snapshot(engine, D(2026, 6, 30))
    after = await _stored(engine)
    await _snapshot(engine, D(2026, 7, 1))
    assert first == {"taken_on": "2026-06-30", "rows": 6}  # June … November, Strategy, EUR
    assert again == {"taken_on": "2026-06-30", "rows": 0}
    assert after == [(D(2026, 6, 30), D(2026, 7, 1), 1, "EUR", "Strategy", 300_000)]
    assert (await _stored(engine))[1:] == [
        (D(2026, 7, 1), D(2026, 7, 1), 0, "EUR", "Strategy", 300_000)
    ]
