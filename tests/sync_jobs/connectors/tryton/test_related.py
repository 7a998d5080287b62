"""Values that live on other Tryton records reach the graph through the scheduled sync.

Each test edits a *related* record in a live Tryton (a party, a task, a work's price, an
invoice line), runs the scheduled ``pull_source`` job and reads the graph over HTTP. The
dependent record's own stamp never moves; to keep the overlap window from re-reading it by
luck, the checkpoints are first moved to now (``as_if_pulled_now``), as a later pull of
other records would have left them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import SyncState, table_of
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.connectors.tryton.connector import OVERLAP
from sync_jobs.context import DEPS_KEY, SyncDeps
from sync_jobs.jobs import pull_source, reconcile_source
from tests.conftest import gateway_client, graphql
from tests.sync_jobs.connectors.tryton.test_writes import SYSTEM, deps, tryton

# Slow (a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

__all__ = ["deps", "tryton"]  # the fixtures, re-used (each test its own Tryton)

PROJECT = 1  # Project 01: invoiced by timesheet, 150.00 an hour, time booked and invoiced
EMPLOYEE = 1
PROJECTS = """{ projects(first: 100) { nodes {
  code budget { amount } budgetHours collected { amount }
  timeEntries { billable billRate { amount } status person { name } invoice { total { amount } } }
  invoices { number total { amount } payments { amount { amount } } }
} } }"""
OWNERS = "{ accounts(first: 100) { nodes { opportunities { name ownerName } } } }"


async def as_if_pulled_now(engine: AsyncEngine, rpc: TrytonClient) -> None:
    """Move every Tryton checkpoint to now, once the firm's records are older than the
    overlap: only what changes from here on can be re-read."""
    works = await rpc.search_read("project.work", [], ["last_modified_at"])
    newest = max(w["last_modified_at"] for w in works)
    while datetime.now(UTC) - newest <= OVERLAP + timedelta(seconds=1):
        await asyncio.sleep(0.5)
    state = table_of(SyncState)
    now = datetime.now(UTC).isoformat()
    async with engine.begin() as conn:
        await conn.execute(update(state).where(state.c.system == SYSTEM).values(checkpoint=now))


async def scheduled_sync(deps: SyncDeps) -> dict[str, Any]:
    return await pull_source({DEPS_KEY: deps}, SYSTEM)


async def scheduled_reconcile(deps: SyncDeps) -> Any:
    return await reconcile_source({DEPS_KEY: deps}, SYSTEM)


async def project_view(engine: AsyncEngine, code: str) -> dict[str, Any]:
    async with gateway_client(engine.url.render_as_string(hide_password=False)) as client:
        body = await graphql(client, PROJECTS)
    assert "errors" not in body, body
    return next(p for p in body["data"]["projects"]["nodes"] if p["code"] == code)


async def owners(engine: AsyncEngine) -> set[str]:
    async with gateway_client(engine.url.render_as_string(hide_password=False)) as client:
        body = await graphql(client, OWNERS)
    nodes = body["data"]["accounts"]["nodes"]
    return {o["ownerName"] for a in nodes for o in a["opportunities"] if o["ownerName"]}


async def test_renaming_an_employees_party_renames_the_person_and_the_deal_owner(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    (employee,) = await rpc.read("company.employee", [EMPLOYEE], ["party"])
    await as_if_pulled_now(deps.engine, rpc)

    await rpc.write("party.party", [employee["party"]], {"name": "Ada Renamed"})
    await scheduled_sync(deps)

    project = await project_view(deps.engine, "1")
    assert {e["person"]["name"] for e in project["timeEntries"]} == {"Ada Renamed"}
    assert "Ada Renamed" in await owners(deps.engine)


async def test_adding_a_task_moves_the_projects_budget_and_hours(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    before = await project_view(deps.engine, "1")
    await as_if_pulled_now(deps.engine, rpc)

    await new_task(rpc, "160.00", hours=10)
    await scheduled_sync(deps)

    after = await project_view(deps.engine, "1")
    (source,) = await rpc.read("project.work", [PROJECT], ["revenue"])
    assert Decimal(after["budgetHours"]) == Decimal(before["budgetHours"]) + 10
    assert Decimal(after["budget"]["amount"]) == Decimal(before["budget"]["amount"]) + 1600
    assert Decimal(after["budget"]["amount"]) == source["revenue"]


async def test_time_on_a_task_is_priced_at_the_tasks_price_and_follows_it(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    task = await new_task(rpc, "160.00", hours=10)
    await book(rpc, task, hours=2)
    await scheduled_sync(deps)
    assert await rates(deps.engine) == {("approved", Decimal(160)), ("invoiced", Decimal(150))}
    await as_if_pulled_now(deps.engine, rpc)

    await rpc.write("project.work", [task], {"list_price": Decimal("170.00")})
    await rpc.write("project.work", [PROJECT], {"list_price": Decimal("175.00")})
    await scheduled_sync(deps)

    # the task's time follows its price; time already invoiced keeps what it was billed
    assert await rates(deps.engine) == {("approved", Decimal(170)), ("invoiced", Decimal(150))}


async def test_an_invoice_line_edited_directly_moves_the_invoice_total(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    (draft,) = await rpc.search_read(
        "account.invoice", [["state", "=", "draft"]], ["lines", "total_amount"], limit=1
    )
    await as_if_pulled_now(deps.engine, rpc)

    await rpc.write("account.invoice.line", draft["lines"][:1], {"unit_price": Decimal(155)})
    await scheduled_sync(deps)

    (source,) = await rpc.read("account.invoice", [draft["id"]], ["total_amount", "number"])
    assert source["total_amount"] != draft["total_amount"]
    totals = {
        Decimal(i["total"]["amount"])
        for p in (await all_projects(deps.engine))
        for i in p["invoices"]
    }
    assert source["total_amount"] in totals
    billed = {  # the time that line bills is priced as billed
        Decimal(e["billRate"]["amount"])
        for p in await all_projects(deps.engine)
        for e in p["timeEntries"]
        if e["invoice"] and Decimal(e["invoice"]["total"]["amount"]) == source["total_amount"]
    }
    assert Decimal(155) in billed


async def test_payments_are_synced_and_projects_show_what_was_collected(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    paid = await rpc.search_read(
        "account.move.line", [["invoice_payment", "!=", None]], ["credit", "debit", "date"]
    )
    received = sum((p["credit"] - p["debit"] for p in paid), Decimal(0))
    assert received > 0

    projects = await all_projects(deps.engine)

    payments = [
        Decimal(pay["amount"]["amount"])
        for p in projects
        for i in p["invoices"]
        for pay in i["payments"]
    ]
    assert sum(payments) == received
    assert sum(Decimal(p["collected"]["amount"]) for p in projects) == received
    days = sorted(p["date"] for p in paid)
    assert await portfolio_collected(deps.engine, days[0], days[-1]) == received


async def portfolio_collected(engine: AsyncEngine, start: date, end: date) -> Decimal:
    query = """query($start: Date, $end: Date) { portfolio(periodStart: $start, periodEnd: $end) {
      currencies { collected { amount } } } }"""
    period = {"start": start.isoformat(), "end": end.isoformat()}
    async with gateway_client(engine.url.render_as_string(hide_password=False)) as client:
        body = await graphql(client, query, period)
    assert "errors" not in body, body
    currencies = body["data"]["portfolio"]["currencies"]
    return sum((Decimal(c["collected"]["amount"]) for c in currencies), Decimal(0))


async def test_a_deleted_task_leaves_the_budget_at_the_next_reconciliation(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    before = await project_view(deps.engine, "1")
    task = await new_task(rpc, "160.00", hours=10)
    await scheduled_sync(deps)
    assert (await project_view(deps.engine, "1"))["budgetHours"] != before["budgetHours"]
    await as_if_pulled_now(deps.engine, rpc)

    await rpc.delete("project.work", [task])
    await scheduled_sync(deps)  # a deletion moves no stamp: the pull cannot see it
    assert (await project_view(deps.engine, "1"))["budgetHours"] != before["budgetHours"]
    reports = await scheduled_reconcile(deps)

    after = await project_view(deps.engine, "1")
    assert (after["budget"], after["budgetHours"]) == (before["budget"], before["budgetHours"])
    (projects,) = [r for r in reports if r.object_type == "project"]
    assert projects.content_repaired == 1 and projects.repaired_ids == [str(PROJECT)]


async def test_a_payment_taken_back_in_tryton_leaves_the_graph(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    (invoice,) = await rpc.search_read(
        "account.invoice",
        [["state", "=", "posted"], ["payment_lines", "!=", None]],
        ["payment_lines", "amount_to_pay"],
        limit=1,
    )
    collected = await total_collected(deps.engine)

    await rpc.write(
        "account.invoice",
        [invoice["id"]],
        {"payment_lines": [["remove", invoice["payment_lines"]]]},
    )
    await scheduled_sync(deps)
    await scheduled_reconcile(deps)

    (line,) = await rpc.read("account.move.line", invoice["payment_lines"], ["credit"])
    assert await total_collected(deps.engine) == collected - line["credit"]


async def total_collected(engine: AsyncEngine) -> Decimal:
    return sum((Decimal(p["collected"]["amount"]) for p in await all_projects(engine)), Decimal(0))


async def all_projects(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with gateway_client(engine.url.render_as_string(hide_password=False)) as client:
        body = await graphql(client, PROJECTS)
    assert "errors" not in body, body
    nodes: list[dict[str, Any]] = body["data"]["projects"]["nodes"]
    return nodes


async def new_task(rpc: TrytonClient, price: str, *, hours: int) -> int:
    """A task of Project 01 that takes time, of its service product at its own price."""
    (project,) = await rpc.read("project.work", [PROJECT], ["product"])
    (task,) = await rpc.create(
        "project.work",
        [
            {
                "type": "task",
                "name": "Data migration",
                "parent": PROJECT,
                "product": project["product"],
                "list_price": Decimal(price),
                "effort_duration": timedelta(hours=hours),
                "timesheet_available": True,
            }
        ],
    )
    return task


async def book(rpc: TrytonClient, task: int, *, hours: int) -> None:
    (work,) = await rpc.read("project.work", [task], ["timesheet_works"])
    line = {
        "employee": EMPLOYEE,
        "work": work["timesheet_works"][0],
        "date": datetime.now(UTC).date(),
        "duration": timedelta(hours=hours),
    }
    await rpc.create("timesheet.line", [line])


async def rates(engine: AsyncEngine) -> set[tuple[str, Decimal]]:
    """(status, bill rate) of Project 01's time."""
    project = await project_view(engine, "1")
    return {(e["status"].lower(), Decimal(e["billRate"]["amount"])) for e in project["timeEntries"]}
