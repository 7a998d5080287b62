"""Small hand-made firms for the early-warning tests (worked in docs/formulas.md), and a
gateway on them with chosen settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from clientgraph.settings_forecasts import ForecastSettings
from gateway.app import create_app
from readmodel import api_keys, tables
from tests.conftest import FIRM_NOW, http_client
from tests.readmodel.firm_builder import FirmBuilder, at
from tests.resolvers.commands.world import gid, url_of

D = date


async def billing_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """Today 2026-06-30; grace 14 days (milestones) and 30 days (time)."""
    acme = ids["acme"] = await b.account("Acme", owner_name="Olga")
    beta = ids["beta"] = await b.account("Beta", owner_name="Bob")
    p1 = ids["P1"] = await b.project(acme, "P1", "milestone", manager_name="Mia")
    p2 = ids["P2"] = await b.project(beta, "P2", "time_and_materials", manager_name="Max")
    p3 = await b.project(acme, "P3", "milestone", deleted=True)
    await _milestones(b, ids, p1, p3)
    await _time(b, ids, p1, p2)
    await _invoices(b, ids, acme, beta)


async def _milestones(b: FirmBuilder, ids: dict[str, Any], p1: int, p3: int) -> None:
    ids["m1"] = await b.milestone(
        p1, 500_000, "completed", D(2026, 5, 31), completed_at=at(D(2026, 6, 1), 10)
    )
    await b.milestone(p1, 300_000, "approved", D(2026, 6, 15), completed_at=at(D(2026, 6, 16), 0))
    ids["m3"] = await b.milestone(
        p1, 200_000, "approved", D(2026, 6, 15), completed_at=at(D(2026, 6, 15), 23, 59)
    )
    await b.milestone(p1, 100_000, "invoiced", D(2026, 5, 1), completed_at=at(D(2026, 5, 1)))
    await b.milestone(p1, 100_000, "planned", D(2026, 5, 1))
    done = {"completed_at": at(D(2026, 5, 1))}
    await b.milestone(p1, 100_000, "completed", D(2026, 5, 1), deleted=True, **done)
    await b.milestone(p3, 100_000, "completed", D(2026, 5, 1), **done)


async def _time(b: FirmBuilder, ids: dict[str, Any], p1: int, p2: int) -> None:
    ada = await b.person("Ada")
    rate = {"bill_rate_minor": 15_000}
    for hours, day in ((800, D(2026, 5, 20)), (250, D(2026, 5, 30)), (400, D(2026, 5, 31))):
        await b.time(p2, ada, hours, "approved", work_date=day, **rate)
    old = {"work_date": D(2026, 5, 1), **rate}
    await b.time(p2, ada, 300, "approved", billable=False, **old)
    inv = await b.invoice(ids["beta"], "T-1", 75_000, 0, status="paid")
    await b.time(p2, ada, 500, "approved", invoice_id=inv, **old)
    await b.time(p2, ada, 600, "submitted", **old)
    await b.time(p2, ada, 700, "approved", deleted=True, **old)
    await b.time(p1, ada, 100, "approved", work_date=D(2026, 4, 30), bill_rate_minor=12_345)


async def _invoices(b: FirmBuilder, ids: dict[str, Any], acme: int, beta: int) -> None:
    await b.invoice(acme, "I1", 100_000, 100_000, due_date=D(2026, 6, 30))
    ids["I2"] = await b.invoice(acme, "I2", 40_000, 40_000, due_date=D(2026, 6, 29))
    ids["I3"] = await b.invoice(
        acme, "I3", 100_000, 25_000, status="partially_paid", due_date=D(2026, 5, 31)
    )
    ids["I4"] = await b.invoice(beta, "I4", 60_000, 60_000, due_date=D(2026, 5, 30))
    ids["I5"] = await b.invoice(beta, "I5", 70_000, 70_000, due_date=D(2026, 4, 1))
    ids["I6"] = await b.invoice(acme, "I6", 90_000, 90_000, currency="USD", due_date=D(2026, 3, 31))
    await b.invoice(acme, "I7", 10_000, 0, status="paid", due_date=D(2026, 1, 1))
    await b.invoice(acme, "I8", 10_000, 10_000, status="void", due_date=D(2026, 1, 1))
    await b.invoice(acme, "I9", 10_000, 10_000, due_date=D(2026, 1, 1), deleted=True)


@asynccontextmanager
async def gateway(
    engine: AsyncEngine, forecasts: ForecastSettings | None = None
) -> AsyncIterator[Starlette]:
    """The gateway on ``engine``'s database with real credentials (no anonymous role)."""
    settings = Settings(
        database_url=url_of(engine),
        auth=AuthSettings(anonymous_role=None),
        graphql=GraphQLSettings(trusted_documents_only_roles=[]),
        forecasts=forecasts or ForecastSettings(),
    )
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app):
        yield app


async def ask(
    app: Starlette,
    engine: AsyncEngine,
    query: str,
    role: str = "finance",
    accounts: list[int] | None = None,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST ``query`` with a new API key of ``role`` (limited to ``accounts`` if given)."""
    named = None if accounts is None else [gid("Account", a) for a in accounts]
    key, _ = await api_keys.create(engine, name=role, role=role, now=FIRM_NOW, accounts=named)
    async with http_client(app) as client:
        response = await _post(client, query, key, variables)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _post(
    client: httpx.AsyncClient, query: str, key: str, variables: dict[str, Any] | None
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {key}"},
    )


ADA_JUNE = {  # day → hours ×100 on PA: median 8.00, MAD 1.00 (docs/formulas.md)
    **dict.fromkeys((1, 4, 9, 15), 700),
    **dict.fromkeys((2, 5, 11, 18, 19), 800),
    **dict.fromkeys((3, 8, 12), 900),
    10: 800,  # + 6 h on the closed PC: a 14-hour day
    13: 200,  # a Saturday
}


async def time_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """June 2026: Ada's regular days with two outliers, Ben's three days."""
    acme = ids["acme"] = await b.account("Acme")
    beta = ids["beta"] = await b.account("Beta")
    card = await b.add(
        tables.RateCard, name="Std", currency="EUR", effective_from=D(2026, 1, 1),
        status="effective",
    )  # fmt: skip
    await b.add(
        tables.RateCardLine, rate_card_id=card, role="consultant", bill_rate_minor=15_000,
        cost_rate_minor=8_000,
    )  # fmt: skip
    pa = await b.project(acme, "PA", "time_and_materials", rate_card_id=card)
    pc = await b.project(
        acme, "PC", "time_and_materials", status="completed", end_date=D(2026, 6, 5)
    )
    pb = await b.project(beta, "PB", "time_and_materials")
    ada, ben = ids["ada"], ids["ben"] = await b.person("Ada"), await b.person("Ben")
    await _staff(b, ada, pa, D(2026, 1, 1), None)
    await _staff(b, ada, pc, D(2026, 1, 1), D(2026, 6, 5))
    await _staff(b, ben, pb, D(2026, 6, 2), None)
    await _ada(b, ids, ada, pa, pc)
    for day, hours in ((1, 800), (2, 1_250), (6, 100)):
        await b.time(pb, ben, hours, "approved", work_date=D(2026, 6, day))


async def _staff(b: FirmBuilder, person: int, project: int, start: date, end: date | None) -> None:
    await b.add(
        tables.Assignment, project_id=project, person_id=person, role="consultant",
        scheduled_hours_x100=10_000, bill_rate_minor=15_000, cost_rate_minor=8_000,
        currency="EUR", start_date=start, end_date=end, status="active",
    )  # fmt: skip


async def _ada(b: FirmBuilder, ids: dict[str, Any], ada: int, pa: int, pc: int) -> None:
    rate = {"bill_rate_minor": 15_000}
    for day, hours in ADA_JUNE.items():
        await b.time(pa, ada, hours, "approved", work_date=D(2026, 6, day), **rate)
    ids["closed"] = await b.time(pc, ada, 600, "approved", work_date=D(2026, 6, 10), **rate)
    ids["dear"] = await b.time(
        pa, ada, 900, "approved", work_date=D(2026, 6, 17), bill_rate_minor=16_000
    )
    await b.time(pa, ada, 600, "approved", work_date=D(2026, 6, 16), **rate)
    await b.time(pa, ada, 200, "approved", work_date=D(2026, 6, 16), billable=False)
    await b.time(pa, ada, 1_000, "rejected", work_date=D(2026, 6, 20), **rate)
    await b.time(pa, ada, 500, "approved", work_date=D(2026, 6, 21), deleted=True, **rate)
    await b.time(pa, ada, 300, "approved", work_date=D(2026, 5, 30), **rate)


async def deals_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """Open deals of a Salesforce client, set up in NetSuite (docs/formulas.md)."""
    sf = {"source_system": "salesforce"}
    acme = ids["acme"] = await b.account("Acme", **sf)
    await b.add(
        tables.RateCard, name="Strategy EUR", service_line="Strategy", currency="EUR",
        effective_from=D(2026, 1, 1), status="effective", source_system="netsuite",
    )  # fmt: skip
    deal = {"owner_name": "Sam", **sf}
    ids["A"] = await b.opportunity(acme, 2_000_000, service_line="Strategy", **deal)
    ids["B"] = await b.opportunity(acme, 3_000_000, service_line="Strategy", **deal)
    await b.engagement(
        acme, 3_000_000, opportunity_id=ids["B"], billing_method="fixed_fee", status="signed",
        start_date=D(2026, 8, 1),
    )  # fmt: skip
    won = {"is_won": True, "is_closed": True, "stage": "closed_won", "probability": 100}
    ids["C"] = await b.opportunity(acme, 1_000_000, service_line="Strategy", **deal, **won)
    ids["D"] = await b.opportunity(acme, 0, **deal)
    ids["E"] = await b.opportunity(
        acme, 1_000_000, service_line="Cloud Migration", currency="USD", **deal
    )
    await b.engagement(
        acme, 1_000_000, opportunity_id=ids["E"], billing_method="milestone", currency="USD",
        status="signed", start_date=D(2026, 9, 1),
    )  # fmt: skip


async def outlook_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """Three projects on 2026-06-30, a 28-day trend window (06-03 … 06-30, 20 working days)."""
    acme = ids["acme"] = await b.account("Acme")
    ada = await b.person("Ada")
    hundred = {"budget_minor": 1_000_000, "budget_hours_x100": 10_000}
    pt = await b.project(
        acme, "PT", "time_and_materials", etc_cost_minor=200_000, end_date=D(2026, 7, 31),
        **hundred,
    )  # fmt: skip
    tm = {"bill_rate_minor": 15_000, "cost_rate_minor": 8_000}
    await b.time(pt, ada, 4_000, "approved", work_date=D(2026, 5, 1), **tm)
    await b.time(pt, ada, 2_000, "approved", work_date=D(2026, 6, 15), **tm)
    pf = await b.project(
        acme, "PF", "fixed_fee", etc_cost_minor=100_000, end_date=D(2026, 7, 10), **hundred
    )
    ff = {"bill_rate_minor": 15_000, "cost_rate_minor": 10_000}
    await b.time(pf, ada, 5_000, "approved", work_date=D(2026, 5, 15), **ff)
    await b.time(pf, ada, 4_000, "approved", work_date=D(2026, 6, 10), **ff)
    pm = await b.project(acme, "PM", "milestone", budget_minor=80_000)
    await b.time(pm, ada, 1_000, "approved", work_date=D(2026, 5, 1), **ff)
    await b.milestone(pm, 300_000, "completed", D(2026, 6, 1))
    await b.milestone(pm, 400_000, "planned", D(2026, 8, 1))
    await b.milestone(pm, 100_000, "planned", D(2026, 8, 1), deleted=True)


async def forecast_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """June to August 2026 seen from 2026-06-30 (docs/formulas.md, "Revenue forecast")."""
    acme = ids["acme"] = await b.account("Acme")
    ids["INV"] = await b.invoice(acme, "A-1", 100_000, 0, status="paid", issue_date=D(2026, 6, 10))
    await b.invoice(acme, "A-2", 50_000, 50_000, status="draft", issue_date=D(2026, 6, 12))
    await b.invoice(acme, "A-3", 200_000, 0, status="paid", issue_date=D(2026, 5, 20))
    pm = ids["PM"] = await b.project(acme, "PM", "milestone")
    ids["M-JUL"] = await b.milestone(pm, 300_000, "planned", D(2026, 7, 15))
    ids["M-LATE"] = await b.milestone(pm, 200_000, "completed", D(2026, 6, 20))
    await b.milestone(pm, 100_000, "invoiced", D(2026, 6, 1))
    await b.milestone(pm, 50_000, "planned", D(2026, 9, 10))
    pf = ids["PF"] = await b.project(
        acme, "PF", "fixed_fee", budget_minor=1_200_000, end_date=D(2026, 8, 20)
    )
    await b.milestone(pf, 400_000, "planned", D(2026, 7, 1))  # an instalment: the fee's part
    await b.invoice(
        acme, "F-1", 300_000, 0, project_id=pf, status="paid", issue_date=D(2026, 4, 10)
    )
    await _staffing(b, ids, acme)
    await _retainer(b, ids, acme)
    await _unbilled_time(b, ids, acme)
    await _pipeline(b, ids, acme)


async def _staffing(b: FirmBuilder, ids: dict[str, Any], acme: int) -> None:
    pt = ids["PT"] = await b.project(acme, "PT", "time_and_materials")
    ada = ids["ada"] = await b.person("Ada")
    staff = {
        "project_id": pt, "person_id": ada, "role": "consultant", "bill_rate_minor": 10_000,
        "cost_rate_minor": 5_000, "currency": "EUR",
    }  # fmt: skip
    ids["A-1"] = await b.add(
        tables.Assignment, start_date=D(2026, 6, 1), end_date=D(2026, 7, 31), status="booked",
        scheduled_hours_x100=20_000, **staff,
    )  # fmt: skip
    await b.add(
        tables.Assignment, start_date=D(2026, 6, 1), status="booked", scheduled_hours_x100=20_000,
        **staff,
    )  # fmt: skip
    await b.add(
        tables.Assignment, start_date=D(2026, 1, 1), end_date=D(2026, 5, 31), status="ended",
        scheduled_hours_x100=20_000, **staff,
    )  # fmt: skip
    month = {"start_date": D(2026, 7, 1), "end_date": D(2026, 7, 31), "status": "booked"}
    await b.add(
        tables.Assignment, scheduled_hours_x100=15_000,
        **(staff | month | {"project_id": ids["PM"]}),
    )  # fmt: skip
    ben = await b.person("Ben", role="analyst", weekly_capacity_hours_x100=3_200)
    await b.person("Cy", role="engineer", active=False)
    august = {"start_date": D(2026, 8, 1), "end_date": D(2026, 8, 31), "status": "booked"}
    await b.add(
        tables.Assignment,
        **(staff | august | {"project_id": ids["PF"], "person_id": ben, "role": "analyst"}),
        scheduled_hours_x100=12_000,
    )


async def _retainer(b: FirmBuilder, ids: dict[str, Any], acme: int) -> None:
    """PR: 10,000.00 from 05-01 to 09-30 (152 days: 5 months of 2,000.00, May … September);
    billed 2,500.00 in June (May's fee and 500.00 more), so 7,500.00 is left. PR2: nothing
    billed of March's, April's and May's fees, all overdue. PR3 ended on 05-31 (completed)
    with May's fee still to invoice."""
    pr = ids["PR"] = await b.project(
        acme, "PR", "retainer", budget_minor=1_000_000, start_date=D(2026, 5, 1),
        end_date=D(2026, 9, 30),
    )  # fmt: skip
    paid = {"project_id": pr, "status": "paid"}
    ids["R-1"] = await b.invoice(acme, "R-1", 200_000, 0, issue_date=D(2026, 6, 1), **paid)
    ids["R-2"] = await b.invoice(acme, "R-2", 50_000, 0, issue_date=D(2026, 6, 15), **paid)
    ids["PR2"] = await b.project(
        acme, "PR2", "retainer", budget_minor=600_000, start_date=D(2026, 3, 1),
        end_date=D(2026, 8, 31),
    )  # fmt: skip  # 183 days: 6 fees of 1,000.00, March … August; none billed yet
    ids["PR3"] = pr3 = await b.project(
        acme, "PR3", "retainer", budget_minor=300_000, start_date=D(2026, 3, 1),
        end_date=D(2026, 5, 31), status="completed",
    )  # fmt: skip  # 91 days: 3 fees of 1,000.00; March's and April's billed, May's not yet
    done = {"project_id": pr3, "status": "paid"}
    await b.invoice(acme, "R3-1", 100_000, 0, issue_date=D(2026, 4, 1), **done)
    await b.invoice(acme, "R3-2", 100_000, 0, issue_date=D(2026, 5, 1), **done)


async def _unbilled_time(b: FirmBuilder, ids: dict[str, Any], acme: int) -> None:
    """Approved billable time not on a billed invoice, worked before today: PT's May 4 h ×
    100.00 and June 8 h × 100.00 + 2.5 h × 120.00 + 2 h × 100.00 on the draft A-4. Out: time
    invoiced (A-1), submitted, not billable, worked today, on a milestone project, on the
    retainer (its fee bills it), deleted."""
    ada, pt, pm, pr = ids["ada"], ids["PT"], ids["PM"], ids["PR"]
    rate = {"bill_rate_minor": 10_000, "cost_rate_minor": 5_000}
    approved = {"status": "approved", **rate}

    async def worked(project: int, hours_x100: int, day: date, **kw: Any) -> None:
        await b.time(project, ada, hours_x100, **(approved | {"work_date": day} | kw))

    await worked(pt, 400, D(2026, 5, 20))
    await worked(pt, 800, D(2026, 6, 10))
    await worked(pt, 250, D(2026, 6, 29), bill_rate_minor=12_000)
    await worked(pr, 300, D(2026, 5, 30))
    await worked(pt, 500, D(2026, 6, 5), status="invoiced", invoice_id=ids["INV"])
    draft = await b.invoice(acme, "A-4", 20_000, 20_000, status="draft", issue_date=D(2026, 6, 28))
    await worked(pt, 200, D(2026, 6, 8), invoice_id=draft)
    await worked(pt, 300, D(2026, 6, 15), status="submitted")
    await worked(pt, 200, D(2026, 6, 16), billable=False)
    await worked(pt, 100, D(2026, 6, 30))
    await worked(pm, 600, D(2026, 6, 11))
    await worked(pt, 900, D(2026, 6, 12), deleted=True)


async def _pipeline(b: FirmBuilder, ids: dict[str, Any], acme: int) -> None:
    ids["DEAL"] = await b.opportunity(
        acme, 1_200_000, probability=50, close_date=D(2026, 7, 10), service_line="Strategy"
    )
    ids["USD"] = await b.opportunity(
        acme, 100_000, probability=10, close_date=D(2026, 5, 1), currency="USD"
    )
    won = {"is_won": True, "is_closed": True, "stage": "closed_won", "probability": 100}
    await b.opportunity(acme, 999_900, **won)
