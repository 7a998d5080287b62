"""Projects and invoices collections, and the figures on them, through GraphQL over HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from readmodel.tables import Invoice, Project
from tests.conftest import FIRM_TODAY, Firm, graphql

PROJECTS = """
query($first: Int, $after: String, $filter: ProjectFilter) {
  projects(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id code status billingMethod budget { amount currency } hoursLogged
            costToDate { amount } budgetBurn percentComplete eac { amount }
            unbilledWip { amount } billed { amount } collected { amount } margin
            account { currency } }
  }
}
"""


async def test_project_filters_and_figures(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client,
        PROJECTS,
        {"first": 100, "filter": {"billingMethod": ["TIME_AND_MATERIALS"], "status": ["ACTIVE"]}},
    )
    assert "errors" not in body, body
    projects = body["data"]["projects"]["nodes"]
    assert projects
    codes = [p["code"] for p in projects]
    assert codes == sorted(codes)
    for p in projects:
        assert p["billingMethod"] == "TIME_AND_MATERIALS" and p["status"] == "ACTIVE"
        assert p["budget"]["currency"] == p["account"]["currency"]
        assert Decimal(p["collected"]["amount"]) <= Decimal(p["billed"]["amount"])
        budget, cost = Decimal(p["budget"]["amount"]), Decimal(p["costToDate"]["amount"])
        if budget:
            assert abs(Decimal(str(p["budgetBurn"])) - cost / budget) < Decimal("0.0001")


async def test_every_billing_method_is_served(client: httpx.AsyncClient) -> None:
    seen = set()
    for method in ("TIME_AND_MATERIALS", "FIXED_FEE", "MILESTONE", "RETAINER", "NON_BILLABLE"):
        body = await graphql(client, PROJECTS, {"first": 1, "filter": {"billingMethod": [method]}})
        if body["data"]["projects"]["nodes"]:
            seen.add(method)
    assert len(seen) == 5


INVOICES = """
query($first: Int, $after: String, $filter: InvoiceFilter) {
  invoices(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id number status dueDate daysOverdue balance { amount currency }
            account { id name } project { code } }
  }
}
"""


async def test_overdue_invoices_match_the_definition(client: httpx.AsyncClient, firm: Firm) -> None:
    nodes, after = [], None
    while True:
        body = await graphql(
            client, INVOICES, {"first": 100, "after": after, "filter": {"overdue": True}}
        )
        assert "errors" not in body, body
        page = body["data"]["invoices"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert nodes, "the seeded firm has overdue invoices"
    for inv in nodes:
        due = date.fromisoformat(inv["dueDate"])
        assert inv["status"] in {"POSTED", "PARTIALLY_PAID"}
        assert due < FIRM_TODAY and Decimal(inv["balance"]["amount"]) > 0
        assert inv["daysOverdue"] == (FIRM_TODAY - due).days
    due_dates = [n["dueDate"] for n in nodes]
    assert due_dates == sorted(due_dates)
    async with firm.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(Invoice))).scalar_one()
    not_overdue = await graphql(client, INVOICES, {"first": 1, "filter": {"overdue": False}})
    assert not_overdue["data"]["invoices"]["totalCount"] + len(nodes) == total


async def test_invoice_status_filter_on_account(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client,
        """
    { accounts(first: 30) { nodes {
        all: invoices { status }
        paid: invoices(status: [PAID]) { status } } } }
    """,
    )
    for account in body["data"]["accounts"]["nodes"]:
        assert account["paid"] == [i for i in account["all"] if i["status"] == "PAID"]


async def test_portfolio_kpis(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client,
        """
    { portfolio { periodStart periodEnd asOf utilization billableHours availableHours
        currencies { currency bookings { amount currency } weightedPipeline { amount }
          backlog { amount } billed { amount } collected { amount }
          overdueBalance { amount } arBalance { amount } dso realization
          collectionRealization } } }
    """,
    )
    assert "errors" not in body, body
    p = body["data"]["portfolio"]
    assert p["periodEnd"] == FIRM_TODAY.isoformat()
    assert (FIRM_TODAY - date.fromisoformat(p["periodStart"])).days == 89
    assert [c["currency"] for c in p["currencies"]] == ["EUR", "USD"]
    assert 0 < p["utilization"] < 1.5
    for c in p["currencies"]:
        assert c["bookings"]["currency"] == c["currency"]
        assert Decimal(c["overdueBalance"]["amount"]) <= Decimal(c["arBalance"]["amount"])


async def test_freshness_lists_every_seeded_source(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client, "{ freshness { system objectType lastSuccessAt recordsApplied lagSeconds } }"
    )
    rows = body["data"]["freshness"]
    systems = {(r["system"], r["objectType"]) for r in rows}
    assert ("salesforce", "account") in systems and ("netsuite", "invoice") in systems
    assert all(r["lastSuccessAt"] and r["recordsApplied"] > 0 for r in rows)


SORTED = """
query($after: String) {
  projects(first: 15, after: $after, orderBy: {field: NAME, direction: DESC}) {
    pageInfo { endCursor } nodes { id name } }
  invoices(first: 15, orderBy: {field: NUMBER}) { nodes { number } }
}
"""


async def test_projects_and_invoices_sort_as_asked(client: httpx.AsyncClient, firm: Firm) -> None:
    first = (await graphql(client, SORTED))["data"]
    after = first["projects"]["pageInfo"]["endCursor"]
    second = (await graphql(client, SORTED, {"after": after}))["data"]["projects"]["nodes"]
    async with firm.engine.connect() as conn:
        p, i = Project.__table__.c, Invoice.__table__.c  # type: ignore[attr-defined]
        names = select(p.name).where(p.deleted_at.is_(None)).order_by(p.name.desc(), p.id.desc())
        expected = [r[0] for r in await conn.execute(names.limit(30))]
        numbers = select(i.number).where(i.deleted_at.is_(None)).order_by(i.number, i.id)
        lowest = [r[0] for r in await conn.execute(numbers.limit(15))]

    walked = first["projects"]["nodes"] + second
    assert [p["name"] for p in walked] == expected
    assert len({p["id"] for p in walked}) == 30  # the second page starts after the first
    assert [i["number"] for i in first["invoices"]["nodes"]] == lowest
